"""Who is looking at the help center, and which articles they may see.

Visibility rules (one place, used by pages, search, suggestions, the widget and the API):
``public`` — everyone; ``signed_in`` — signed-in customers; ``organizations`` — customers of
the article's organizations; ``internal`` — agents only. Agents see everything.

Knowing the signed-in customer is the request portal's business (``channels_hub``, which this
app may not import): it registers a resolver here at start-up (``register_customer_resolver``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from helpdesk.tenancy.roles import Cap, role_has
from knowledge.models import ArticleOrganization, Visibility


@dataclass(frozen=True)
class Audience:
    is_agent: bool = False
    contact_id: int | None = None
    organization_id: int | None = None

    @property
    def signed_in(self) -> bool:
        return self.is_agent or self.contact_id is not None


ANONYMOUS = Audience()
AGENTS = Audience(is_agent=True)

# request -> (contact_id, organization_id) of the signed-in customer, or None.
CustomerResolver = Callable[[object], "tuple[int, int | None] | None"]
_RESOLVERS: list[CustomerResolver] = []


def register_customer_resolver(resolver: CustomerResolver) -> None:
    if resolver not in _RESOLVERS:
        _RESOLVERS.append(resolver)


def audience_for_request(request) -> Audience:
    """Agents of the host's tenant (signed in to the console, with ``kb.view``) see everything;
    otherwise the signed-in customer, if any; otherwise an anonymous visitor. Cached on the request."""
    cached = getattr(request, "_kb_audience", None)
    if cached is not None:
        return cached
    audience = ANONYMOUS
    membership = getattr(request, "membership", None)
    if membership is not None and getattr(membership, "is_active", False) and role_has(membership.role, Cap.KB_VIEW):
        audience = AGENTS
    else:
        for resolver in _RESOLVERS:
            found = resolver(request)
            if found:
                audience = Audience(contact_id=found[0], organization_id=found[1])
                break
    request._kb_audience = audience
    return audience


def visible_articles_q(audience: Audience, *, prefix: str = "") -> Q:
    """A filter on ``Article`` (or on a model reaching it through ``prefix``, e.g. ``"article__"``)."""
    if audience.is_agent:
        return Q()
    allowed = Q(**{f"{prefix}visibility": Visibility.PUBLIC})
    if audience.signed_in:
        allowed |= Q(**{f"{prefix}visibility": Visibility.SIGNED_IN})
    if audience.organization_id is not None:
        member = ArticleOrganization.objects.filter(article_id=OuterRef(f"{prefix}pk" if prefix else "pk"),
                                                    organization_id=audience.organization_id)
        allowed |= Q(**{f"{prefix}visibility": Visibility.ORGANIZATIONS}) & Exists(member)
    return allowed


def can_see(article, audience: Audience, *, organization_ids: set[int] | None = None) -> bool:
    """The same rule for one loaded article (``organization_ids``: its organizations, if known)."""
    if audience.is_agent or article.visibility == Visibility.PUBLIC:
        return True
    if article.visibility == Visibility.SIGNED_IN:
        return audience.signed_in
    if article.visibility == Visibility.ORGANIZATIONS and audience.organization_id is not None:
        if organization_ids is None:
            return ArticleOrganization.objects.filter(article_id=article.pk,
                                                      organization_id=audience.organization_id).exists()
        return audience.organization_id in organization_ids
    return False
