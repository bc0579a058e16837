"""Signing in and out: password, then the authenticator code when the person enabled it;
password reset by email; the language switch of the anonymous pages.

A session is authenticated only after every factor passed: between the password and the
code the session holds a short-lived pending marker, never the login itself.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.contrib import auth
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from helpdesk.console import ratelimit
from helpdesk.console.forms import CodeForm, LanguageForm, LoginForm, PasswordResetForm, SetPasswordForm
from helpdesk.console.middleware import set_language_cookie
from helpdesk.console.services import two_factor_check, user_set_locale
from helpdesk.console.tenants import activate_tenant, preferred_membership, remember_tenant
from helpdesk.tenancy.resolution import membership_for, memberships_of

PENDING_KEY = "console_pending_login"
LANGUAGE_CHOICE_KEY = "console_language_choice"
PENDING_SECONDS = 5 * 60

_guarded = [sensitive_post_parameters(), csrf_protect, never_cache]


def safe_next(request, candidate: str | None) -> str:
    """``candidate`` if it stays on this host, else the console home."""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse("console:home")


def _locked_message(seconds: int) -> str:
    minutes = ratelimit.minutes(seconds)
    return _("Too many failed attempts. For your safety, sign-in is paused for %(minutes)d minute(s); "
             "try again later or reset your password.") % {"minutes": minutes}


def complete_login(request, user, *, next_url: str) -> HttpResponseRedirect:
    """Every factor passed: log in, adopt the language chosen before, pick the tenant."""
    chosen_language = request.session.get(LANGUAGE_CHOICE_KEY)
    auth.login(request, user, backend=getattr(user, "backend", None))
    request.session.pop(PENDING_KEY, None)
    if chosen_language in dict(settings.LANGUAGES):
        user_set_locale(user=user, locale=chosen_language)  # chosen on the sign-in page: it wins
    elif not user.locale and request.LANGUAGE_CODE in dict(settings.LANGUAGES):
        user_set_locale(user=user, locale=request.LANGUAGE_CODE)
    response = HttpResponseRedirect(next_url)
    if request.is_platform_host:
        membership = preferred_membership(request)
        if membership is not None:
            activate_tenant(request, membership)
            remember_tenant(response, user=user, tenant_id=membership.tenant_id)
    set_language_cookie(response, user.locale)
    return response


def _access_error(request, user) -> str | None:
    """Why ``user`` may not enter the console here, or None."""
    if request.tenant is not None:
        if membership_for(user, request.tenant) is None:
            return _("This account has no access to %(tenant)s. Ask one of its administrators to invite you.") % {
                "tenant": request.tenant.display_name}
        return None
    if not memberships_of(user) and not user.is_superuser:
        # Platform superusers sign in here too (two-factor and lockout apply) to reach /admin/.
        return _("This account is not a member of any helpdesk yet. Ask an administrator to invite you.")
    return None


@method_decorator(_guarded, name="dispatch")
class LoginView(View):
    template_name = "console/login.html"

    def get(self, request):
        if request.user.is_authenticated:
            return HttpResponseRedirect(safe_next(request, request.GET.get("next")))
        return self._render(LoginForm(request))

    def post(self, request):
        form = LoginForm(request, data=request.POST)
        account = (request.POST.get("username") or "").strip().lower()[:254]
        ip = ratelimit.client_ip(request)
        wait = ratelimit.locked_for(kind=ratelimit.PASSWORD, account=account, ip=ip)
        if wait:
            form.is_valid()  # bound form keeps the email; the error replaces any other
            form.errors.clear()
            form.add_error(None, _locked_message(wait))
            return self._render(form, status=429)
        if not form.is_valid():
            if account and request.POST.get("password"):
                wait = ratelimit.record_failure(kind=ratelimit.PASSWORD, account=account, ip=ip)
                if wait:
                    form.errors.clear()
                    form.add_error(None, _locked_message(wait))
                    return self._render(form, status=429)
            return self._render(form, status=400)
        user = form.get_user()
        error = _access_error(request, user)
        if error:
            form.add_error(None, error)
            return self._render(form, status=403)
        ratelimit.reset(kind=ratelimit.PASSWORD, account=account, ip=ip)
        next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
        if user.is_superuser and request.tenant is None and not memberships_of(user) \
                and next_url == reverse("console:home"):
            next_url = reverse("admin:index")
        if user.totp_enabled:
            request.session[PENDING_KEY] = {"user_id": user.pk, "backend": user.backend, "next": next_url,
                                            "at": time.time()}
            return HttpResponseRedirect(reverse("console:login_verify"))
        return complete_login(request, user, next_url=next_url)

    def _render(self, form, status: int = 200):
        request = self.request
        return render(request, self.template_name, {
            "form": form,
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "hide_nav": True,
        }, status=status)


def pending_user(request):
    """The person who passed the password step in this session, if still in time."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None, None
    user = get_user_model().objects.filter(pk=pending.get("user_id"), is_active=True).first()
    if user is None or not user.totp_enabled:
        return None, None
    user.backend = pending.get("backend")
    return user, pending


@method_decorator(_guarded, name="dispatch")
class LoginVerifyView(View):
    """The second step: the 6-digit code of the authenticator app (RFC 6238)."""

    template_name = "console/login_verify.html"

    def get(self, request):
        user, _pending = pending_user(request)
        if user is None:
            return self._expired()
        return self._render(CodeForm())

    def post(self, request):
        user, pending = pending_user(request)
        if user is None:
            return self._expired()
        form = CodeForm(request.POST)
        ip = ratelimit.client_ip(request)
        wait = ratelimit.locked_for(kind=ratelimit.CODE, account=user.email, ip=ip)
        if wait:
            form.is_valid()
            form.errors.clear()
            form.add_error(None, _locked_message(wait))
            return self._render(form, status=429)
        if not form.is_valid():
            return self._render(form, status=400)
        if not two_factor_check(user=user, code=form.cleaned_data["code"]):
            wait = ratelimit.record_failure(kind=ratelimit.CODE, account=user.email, ip=ip)
            form.add_error("code", _locked_message(wait) if wait else _(
                "That code is not valid or was already used. Wait for the next code and try again."))
            return self._render(form, status=429 if wait else 400)
        ratelimit.reset(kind=ratelimit.CODE, account=user.email, ip=ip)
        error = _access_error(request, user)
        if error:
            request.session.pop(PENDING_KEY, None)
            form.add_error(None, error)
            return self._render(form, status=403)
        return complete_login(request, user, next_url=safe_next(request, pending.get("next")))

    def _expired(self):
        self.request.session.pop(PENDING_KEY, None)
        messages.warning(self.request, _("Your sign-in expired. Please enter your email and password again."))
        return HttpResponseRedirect(reverse("console:login"))

    def _render(self, form, status: int = 200):
        return render(self.request, self.template_name, {"form": form, "hide_nav": True}, status=status)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET), CSRF-protected."""

    next_page = reverse_lazy("console:login")


class InvalidFormIs400:
    """A form sent back with errors answers 400, so clients and tests see the refusal."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "console/password_reset_form.html"
    email_template_name = "emails/password_reset.txt"
    html_email_template_name = "emails/password_reset.html"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("console:password_reset_done")
    extra_context = {"hide_nav": True}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "console/password_reset_done.html"
    extra_context = {"hide_nav": True}


class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "console/password_reset_confirm.html"
    success_url = reverse_lazy("console:password_reset_complete")
    extra_context = {"hide_nav": True}


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "console/password_reset_complete.html"
    extra_context = {"hide_nav": True}


@method_decorator([csrf_protect, never_cache], name="dispatch")
class LanguageView(View):
    """Switch the interface language: remembered on the account, and in a cookie for
    the pages before sign-in."""

    http_method_names = ["post"]

    def post(self, request):
        form = LanguageForm(request.POST)
        if not form.is_valid():
            return render(request, "console/message.html", {
                "title": _("Unknown language"),
                "message": _("Choose one of the offered languages."),
                "back_url": safe_next(request, request.POST.get("next")),
                "hide_nav": True,
            }, status=400)
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            user_set_locale(user=request.user, locale=language)
        else:
            request.session[LANGUAGE_CHOICE_KEY] = language
        response = HttpResponseRedirect(safe_next(request, form.cleaned_data.get("next")))
        set_language_cookie(response, language)
        return response
