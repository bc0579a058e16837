"""Customer mail from localized templates in the tenant's branded layout."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import loader
from django.utils import translation

from helpdesk.tenancy.models import Tenant

_COLOR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
DEFAULT_BRAND_COLOR = "#1f6feb"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def customer_language(*, tenant: Tenant, ticket: Any = None, contact: Any = None) -> str:
    supported = {code for code, _name in settings.LANGUAGES}
    for value in (getattr(ticket, "language", ""), getattr(contact, "locale", ""), tenant.default_locale):
        code = (value or "").split("-")[0].lower()
        if code in supported:
            return code
    return settings.LANGUAGE_CODE


def render_customer_email(name: str, *, tenant: Tenant, language: str, context: dict[str, Any],
                          subject: str = "") -> Rendered:
    """``emails/customer/<name>.{txt,html}`` (and ``.subject.txt`` unless ``subject`` is
    given) in ``language``, with the tenant's brand in the context."""
    color = tenant.brand_color if _COLOR.match(tenant.brand_color or "") else DEFAULT_BRAND_COLOR
    context = {"brand_name": tenant.brand_name or tenant.name, "brand_color": color, "tenant": tenant, **context}
    with translation.override(language):
        if not subject:
            subject = loader.render_to_string(f"emails/customer/{name}.subject.txt", context)
        subject = " ".join(subject.split())
        context["subject"] = subject
        text = loader.render_to_string(f"emails/customer/{name}.txt", context).strip() + "\n"
        html = loader.render_to_string(f"emails/customer/{name}.html", context)
    return Rendered(subject=subject, text=text, html=html)
