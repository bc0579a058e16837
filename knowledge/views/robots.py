"""``/robots.txt`` on every host.

A tenant's host lets crawlers read its help center and keeps them out of what is private or
per visitor: the console, the API, the admin, the request portal (requests, sign-in, account)
and search result pages; it names the absolute address of the help center's sitemap (the
tenant's primary host, as links in emails). A tenant whose help center is off, the platform's
own host and unknown hosts disallow everything: there is nothing public to index there.
"""
from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from knowledge.locales import hc_settings

DISALLOW_ALL = "User-agent: *\nDisallow: /\n"


def _private_paths() -> list[str]:
    # By route name where one exists, so a moved page stays covered.
    return ["/console/", "/api/", "/admin/", reverse("portal:requests"), reverse("portal:signin"),
            reverse("portal:signout"), reverse("portal:account"), "/hc/*/search/"]


def robots_txt_for(tenant) -> str:
    """The file's text for ``tenant`` (None: the platform's host)."""
    if tenant is None or not hc_settings(tenant).is_enabled:
        return DISALLOW_ALL
    lines = ["User-agent: *", f"Allow: {reverse('helpcenter:root')}"]
    lines += [f"Disallow: {path}" for path in _private_paths()]
    lines += ["", f"Sitemap: {tenant.absolute_url(reverse('helpcenter:sitemap'))}"]
    return "\n".join(lines) + "\n"


@require_GET
def robots_txt(request) -> HttpResponse:
    tenant = getattr(request, "tenant", None)
    if getattr(request, "is_platform_host", True):
        tenant = None
    return HttpResponse(robots_txt_for(tenant), content_type="text/plain; charset=utf-8")
