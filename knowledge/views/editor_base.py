"""The guarded bases of the console's help-center pages (``/console/kb/``).

Rights (``helpdesk.tenancy.roles``): ``kb.view`` reads the tree, history, queues; ``kb.edit``
writes drafts and files them for review; ``kb.publish`` publishes, schedules, archives,
arranges the structure and changes the settings. Each view declares the capability of its
page; a publish-level action inside a page that ``kb.edit`` opens checks ``can_publish``.
Another tenant's object is a 404 by construction (``TenantObjectMixin``).
"""
from __future__ import annotations

from functools import cached_property

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic.detail import SingleObjectMixin

from helpdesk.console.views.base import ConsoleView, TenantObjectMixin, no_access
from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.roles import Cap, role_has
from knowledge.locales import enabled_locales, hc_settings, normalize_locale


def locale_label(code: str) -> str:
    """The language's own name ("Türkçe", "English"), else the code."""
    try:
        info = translation.get_language_info(code)
    except KeyError:
        try:
            info = translation.get_language_info(code.split("-")[0])
        except KeyError:
            return code
        return f"{info['name_local']} ({code})"
    return info["name_local"]


class KbView(ConsoleView):
    capability = Cap.KB_VIEW

    @cached_property
    def hc(self):
        return hc_settings(self.tenant)

    @cached_property
    def locales(self) -> list[str]:
        """The help center's languages, the tenant's default first."""
        return enabled_locales(self.tenant, self.hc)

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    @cached_property
    def chain(self) -> list[str]:
        """Names shown in the viewer's interface language when the content has it, else the default."""
        language = translation.get_language() or self.default_locale
        return [language, self.default_locale]

    @property
    def can_edit(self) -> bool:
        return role_has(self.membership.role, Cap.KB_EDIT)

    @property
    def can_publish(self) -> bool:
        return role_has(self.membership.role, Cap.KB_PUBLISH)

    def locale_labels(self, extra=()) -> dict[str, str]:
        return {code: locale_label(code) for code in [*self.locales, *extra]}

    def requested_locale(self, value: str | None, *, fallback: str | None = None) -> str | None:
        """A ``?locale=`` value as a normalised code; None when it is not a language code."""
        if not value:
            return fallback or self.default_locale
        try:
            return normalize_locale(value)
        except ValidationError:
            return None

    def owners(self) -> list[tuple[int, str]]:
        """The tenant's people who may own articles (one query)."""
        rows = (Membership.objects.filter(tenant=self.tenant, is_active=True).select_related("user")
                .order_by("user__full_name", "user__email"))
        return [(m.user_id, m.user.full_name or m.user.email) for m in rows if role_has(m.role, Cap.KB_EDIT)]

    def page(self, template: str, context: dict, *, status: int = 200) -> TemplateResponse:
        return TemplateResponse(self.request, f"console/kb/{template}", {
            "can_edit": self.can_edit, "can_publish": self.can_publish, "kb_locales": self.locales,
            "locale_labels": self.locale_labels(context.pop("extra_locales", ())), **context,
        }, status=status)

    def refuse(self):
        """The console's 403 page, for an action the role does not allow inside an allowed page."""
        return no_access(self.request, reason="capability")

    def bad_request(self, message: str | None = None):
        return HttpResponseBadRequest(message or _("Bad request."), content_type="text/plain; charset=utf-8")

    def back(self, fallback: str):
        """Where a POST returns to: a local ``next`` when given, else ``fallback``."""
        target = self.request.POST.get("next") or ""
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={self.request.get_host()},
                                                      require_https=self.request.is_secure()):
            return HttpResponseRedirect(target)
        return HttpResponseRedirect(fallback)

    def error_message(self, exc: ValidationError) -> None:
        messages.error(self.request, " ".join(exc.messages))


class KbObjectView(TenantObjectMixin, KbView, SingleObjectMixin):
    """A page about one of the tenant's rows (``model``); any other id is a 404."""


def edit_url(article_id: int, locale: str) -> str:
    return f"{reverse('kb:article_edit', args=[article_id])}?locale={locale}"
