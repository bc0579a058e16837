"""Writes behind the console shell: a person's profile, language, and two-factor sign-in."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.console import totp
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant
from helpdesk.tenancy.resolution import memberships_of


class TwoFactorError(ValueError):
    """A two-factor change was refused; ``str(error)`` is a message for the person."""


def _audit(tenant: Tenant | None, **kwargs) -> None:
    if tenant is not None:
        with tenant_scope(tenant):
            audit_record(tenant=tenant, **kwargs)


def two_factor_check(*, user, code: str) -> bool:
    """True when ``code`` is the user's current code and was not used before.

    Spending a code moves ``totp_last_counter`` forward with a conditional UPDATE, so two
    requests racing with the same code cannot both succeed.
    """
    counter = totp.matching_counter(secret=user.totp_secret, code=code)
    if counter is None or counter <= user.totp_last_counter:
        return False
    User = get_user_model()
    spent = User.objects.filter(pk=user.pk, totp_last_counter__lt=counter).update(totp_last_counter=counter)
    if spent:
        user.totp_last_counter = counter
    return bool(spent)


@transaction.atomic
def two_factor_begin(*, user) -> str:
    """The secret to enrol with: the pending one if enrolment already started, else a new one."""
    if user.totp_enabled:
        raise TwoFactorError(_("Two-factor sign-in is already on."))
    if not user.totp_secret:
        user.totp_secret = totp.new_secret()
        user.totp_last_counter = 0
        user.save(update_fields=["totp_secret", "totp_last_counter"])
    return user.totp_secret


@transaction.atomic
def two_factor_enable(*, user, code: str, tenant: Tenant | None = None, meta: dict | None = None) -> None:
    """Turn two-factor sign-in on once the person proves their app shows the right code."""
    if user.totp_enabled:
        raise TwoFactorError(_("Two-factor sign-in is already on."))
    if not user.totp_secret:
        raise TwoFactorError(_("Start the set-up again: no secret was issued."))
    if not two_factor_check(user=user, code=code):
        raise TwoFactorError(_("That code is not valid. Check the time on your device and try the newest code."))
    user.totp_enabled = True
    user.save(update_fields=["totp_enabled"])
    _audit(tenant, action="user.two_factor_enabled", actor=user, obj=user, **(meta or {}))


def tenants_requiring_two_factor(*, user) -> list[Tenant]:
    return [m.tenant for m in memberships_of(user) if m.tenant.require_two_factor]


@transaction.atomic
def two_factor_disable(*, user, code: str, tenant: Tenant | None = None, meta: dict | None = None) -> None:
    """Turn two-factor sign-in off; needs a current code, refused where a tenant requires it."""
    if not user.totp_enabled:
        raise TwoFactorError(_("Two-factor sign-in is already off."))
    requiring = tenants_requiring_two_factor(user=user)
    if requiring:
        raise TwoFactorError(
            _("%(tenant)s requires two-factor sign-in, so it cannot be turned off.")
            % {"tenant": requiring[0].display_name}
        )
    if not two_factor_check(user=user, code=code):
        raise TwoFactorError(_("That code is not valid. Check the time on your device and try the newest code."))
    user.totp_enabled = False
    user.totp_secret = ""
    user.save(update_fields=["totp_enabled", "totp_secret"])
    _audit(tenant, action="user.two_factor_disabled", actor=user, obj=user, **(meta or {}))


@transaction.atomic
def profile_update(*, user, full_name: str, locale: str, timezone_name: str) -> None:
    user.full_name = full_name.strip()
    user.locale = locale
    user.timezone = timezone_name
    user.full_clean(validate_unique=False, exclude=["password"])
    user.save(update_fields=["full_name", "locale", "timezone"])


def user_set_locale(*, user, locale: str) -> None:
    if user.locale != locale:
        user.locale = locale
        user.save(update_fields=["locale"])
