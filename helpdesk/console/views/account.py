"""The person's own pages: home (dashboard shell), profile, two-factor enrolment, tenant switch."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit.services import request_meta
from helpdesk.console import totp
from helpdesk.console.forms import CodeForm, ProfileForm, TenantSwitchForm
from helpdesk.console.middleware import set_language_cookie
from helpdesk.console.services import (
    TwoFactorError,
    profile_update,
    tenants_requiring_two_factor,
    two_factor_begin,
    two_factor_disable,
    two_factor_enable,
)
from helpdesk.console.tenants import activate_tenant, remember_tenant
from helpdesk.console.views.auth import safe_next
from helpdesk.console.views.base import ConsoleTemplateView, ConsoleView
from helpdesk.tenancy.resolution import memberships_of
from helpdesk.tenancy.roles import CAPABILITIES, Cap, Role


def greeting_for(hour: int) -> str:
    if 5 <= hour < 12:
        return _("Good morning")
    if 12 <= hour < 18:
        return _("Good afternoon")
    return _("Good evening")


class HomeView(ConsoleTemplateView):
    capability = Cap.CONSOLE_ACCESS
    template_name = "console/home.html"

    def get_context_data(self, **kwargs):
        now = timezone.localtime()
        granted = CAPABILITIES.get(self.membership.role, frozenset())
        return super().get_context_data(
            **kwargs,
            greeting=greeting_for(now.hour),
            now=now,
            role_label=Role(self.membership.role).label if self.membership.role in Role.values else "",
            capabilities=[cap.label for cap in Cap if cap in granted],
        )


class ProfileView(ConsoleView):
    capability = Cap.CONSOLE_ACCESS
    template_name = "console/profile.html"

    def get(self, request):
        user = request.user
        form = ProfileForm(initial={
            "full_name": user.full_name,
            "locale": user.locale or request.LANGUAGE_CODE,
            "timezone": user.timezone or request.tenant.timezone,
        })
        return self._render(form)

    def post(self, request):
        form = ProfileForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        profile_update(user=request.user, full_name=form.cleaned_data["full_name"],
                       locale=form.cleaned_data["locale"], timezone_name=form.cleaned_data["timezone"])
        response = HttpResponseRedirect(reverse("console:profile"))
        set_language_cookie(response, form.cleaned_data["locale"])
        # Shown on the next page, which is already in the new language.
        messages.success(request, _("Your profile was saved."))
        return response

    def _render(self, form, *, disable_form=None, status: int = 200):
        user = self.request.user
        requiring = tenants_requiring_two_factor(user=user) if user.totp_enabled else []
        return render(self.request, self.template_name, {
            "form": form,
            "disable_form": disable_form or CodeForm(auto_id="id_disable_%s", autofocus=False),
            "two_factor_locked_by": requiring[0] if requiring else None,
        }, status=status)


class TwoFactorDisableView(ProfileView):
    http_method_names = ["post"]

    def post(self, request):
        form = CodeForm(request.POST, auto_id="id_disable_%s", autofocus=False)
        profile_form = ProfileForm(initial={"full_name": request.user.full_name, "locale": request.user.locale,
                                            "timezone": request.user.timezone or request.tenant.timezone})
        if not form.is_valid():
            return self._render(profile_form, disable_form=form, status=400)
        try:
            two_factor_disable(user=request.user, code=form.cleaned_data["code"], tenant=request.tenant,
                               meta=request_meta(request))
        except TwoFactorError as error:
            form.add_error("code", str(error))
            return self._render(profile_form, disable_form=form, status=400)
        messages.success(request, _("Two-factor sign-in is now off."))
        return HttpResponseRedirect(reverse("console:profile"))


class TwoFactorSetupView(ConsoleView):
    """Enrolment: the secret as text and as a QR code, confirmed with a first code."""

    capability = Cap.CONSOLE_ACCESS
    allow_without_two_factor = True
    template_name = "console/two_factor_setup.html"

    def get(self, request):
        if request.user.totp_enabled:
            return HttpResponseRedirect(reverse("console:profile"))
        return self._render(CodeForm())

    def post(self, request):
        if request.user.totp_enabled:
            return HttpResponseRedirect(reverse("console:profile"))
        form = CodeForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        try:
            two_factor_enable(user=request.user, code=form.cleaned_data["code"], tenant=request.tenant,
                              meta=request_meta(request))
        except TwoFactorError as error:
            form.add_error("code", str(error))
            return self._render(form, status=400)
        messages.success(request, _("Two-factor sign-in is on. From now on you will be asked for a code "
                                    "after your password."))
        return HttpResponseRedirect(safe_next(request, request.POST.get("next") or request.GET.get("next")))

    def _render(self, form, status: int = 200):
        user = self.request.user
        secret = two_factor_begin(user=user)
        issuer = self.request.tenant.display_name
        uri = totp.provisioning_uri(secret=secret, account=user.email, issuer=issuer)
        return render(self.request, self.template_name, {
            "form": form,
            "secret": totp.format_secret(secret),
            "otpauth_uri": uri,
            "qr_svg": totp.qr_svg(uri, title=_("QR code for your authenticator app")),
            "required": self.request.tenant.require_two_factor,
            "next": self.request.GET.get("next") or self.request.POST.get("next", ""),
            "hide_nav": self.request.tenant.require_two_factor,
        }, status=status)


class TenantSwitchView(ConsoleView):
    """Move to another tenant the person belongs to.

    Platform hosts keep the choice in the session; on a tenant's own host the browser goes
    to the chosen tenant's host (the session there is its own).
    """

    capability = Cap.CONSOLE_ACCESS
    allow_without_two_factor = True
    http_method_names = ["post"]

    def post(self, request):
        form = TenantSwitchForm(request.POST)
        if not form.is_valid():
            return render(request, "console/message.html", {
                "title": _("Choose a helpdesk"), "message": _("Choose one of your helpdesks from the list."),
                "back_url": reverse("console:home"),
            }, status=400)
        membership = next((m for m in memberships_of(request.user) if m.tenant_id == form.cleaned_data["tenant"]),
                          None)
        if membership is None:
            raise Http404
        if request.is_platform_host:
            activate_tenant(request, membership)
            response = HttpResponseRedirect(reverse("console:home"))
        else:
            response = HttpResponseRedirect(membership.tenant.absolute_url(reverse("console:home")))
        remember_tenant(response, user=request.user, tenant_id=membership.tenant_id)
        return response
