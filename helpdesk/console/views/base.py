"""The one guarded base for console pages (the console's twin of ``helpdesk.api.viewsets``).

Every console view derives from ``ConsoleView`` (or a generic built on it) and declares
the capability it needs::

    class TicketDetail(ConsoleDetailView):
        capability = Cap.TICKETS_VIEW
        model = Ticket
        template_name = "tickets/detail.html"

        def safely_get_queryset(self, queryset):
            return queryset.select_related("assignee")

Before any handler runs, ``dispatch`` checks, in order: signed in (else to the login
page); a tenant (on platform hosts the person's last-used or first tenant is chosen);
membership of that tenant (else a clear 403 page); two-factor enrolment where the tenant
requires it (else to the enrolment page); the declared capability (default-deny: none
declared means refused).

Object views set ``model`` and may narrow ``safely_get_queryset``; defining
``get_queryset``/``get_object``/``queryset`` on a subclass raises ``TypeError`` at import,
so a page cannot forget the tenant and another tenant's object is a 404 by construction.
"""
from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from helpdesk.console.tenants import activate_tenant, preferred_membership
from helpdesk.tenancy.context import require_tenant
from helpdesk.tenancy.models import TenantOwned
from helpdesk.tenancy.resolution import memberships_of
from helpdesk.tenancy.roles import Cap, role_has

_GUARDED = ("get_queryset", "get_object", "queryset")


def no_access(request, *, reason: str, status: int = 403) -> TemplateResponse:
    """A page that says why the person cannot go on, with ways out (other tenants, sign out)."""
    elsewhere = [m for m in memberships_of(request.user) if m.tenant_id != getattr(request.tenant, "pk", None)]
    return TemplateResponse(request, "console/no_access.html",
                            {"reason": reason, "elsewhere": elsewhere, "hide_nav": True}, status=status)


class ConsoleView(View):
    """Signed in, member of ``request.tenant``, enrolled in 2FA where required, and capable."""

    # A ``roles.Cap`` value. None means nobody may use the view (default-deny).
    capability: str | None = None
    # Only the enrolment page (and the tenant switcher) may be used before enrolling.
    allow_without_two_factor: bool = False

    @classmethod
    def as_view(cls, **initkwargs):
        # Fail when the URLconf loads, not when someone opens the page.
        capability = initkwargs.get("capability", cls.capability)
        if capability not in Cap.values:
            raise ImproperlyConfigured(f"{cls.__name__} must declare a capability from roles.Cap")
        return super().as_view(**initkwargs)

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.tenant is None:
            if request.is_platform_host:
                membership = preferred_membership(request)
                if membership is not None:
                    activate_tenant(request, membership)
                    return HttpResponseRedirect(request.get_full_path())
            return no_access(request, reason="no_tenant")
        if request.membership is None or not request.membership.is_active:
            return no_access(request, reason="not_member")
        if request.tenant.blocks_without_two_factor(user) and not self.allow_without_two_factor:
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return HttpResponseRedirect(reverse("console:two_factor_setup") + (f"?{query}" if query else ""))
        if self.capability is None or self.capability not in Cap.values or not role_has(request.membership.role, self.capability):
            return no_access(request, reason="capability")
        return super().dispatch(request, *args, **kwargs)

    @property
    def tenant(self):
        return self.request.tenant

    @property
    def membership(self):
        return self.request.membership


class TenantObjectMixin:
    """``model`` + ``safely_get_queryset``: the tenant's rows only; overrides refused."""

    model: type[TenantOwned] | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _GUARDED:
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} overrides {name}; implement safely_get_queryset() instead")

    def safely_get_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset

    def get_queryset(self) -> models.QuerySet:
        tenant = require_tenant()
        if self.model is None or not issubclass(self.model, TenantOwned):
            raise ImproperlyConfigured(f"{type(self).__name__}.model must be a TenantOwned model")
        return self.safely_get_queryset(self.model.objects.filter(tenant=tenant))

    def get_object(self, queryset=None):
        # Always the guarded queryset, whatever a caller passes.
        try:
            return super().get_object(self.get_queryset())
        except (ValueError, ValidationError):  # a malformed id is just a missing object
            raise Http404 from None


class ConsoleTemplateView(ConsoleView, TemplateView):
    pass


class ConsoleFormView(ConsoleView, FormView):
    pass


class ConsoleListView(TenantObjectMixin, ConsoleView, ListView):
    pass


class ConsoleDetailView(TenantObjectMixin, ConsoleView, DetailView):
    pass
