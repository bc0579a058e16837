"""Pages of the request portal: thin — parse, check who is asking, call a service or selector.

Every page answers on a tenant's host only (a platform host, or a tenant whose portal is
off, is a 404). A request the customer may not see is a 404 whatever the reason (another
customer's, another tenant's, not signed in), so nothing tells a number exists.
"""
from __future__ import annotations

import functools
import re
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from channels_hub.portal import auth, selectors
from channels_hub.portal.forms import (
    HONEYPOT,
    STAMP,
    PasswordForm,
    ReplyForm,
    RequestForm,
    SigninLinkForm,
    SigninPasswordForm,
    custom_field_display,
)
from channels_hub.portal.services import (
    SOLVABLE,
    account_authenticate,
    account_password_set,
    clean_next,
    portal_settings_get,
    request_reply,
    request_solve_by_requester,
    request_submit,
    signin_link_issue,
    signin_link_peek,
    signin_link_redeem,
)
from channels_hub.services.rendering import DEFAULT_BRAND_COLOR
from helpdesk.audit.services import request_meta
from helpdesk.console import ratelimit
from helpdesk.console.middleware import set_language_cookie
from knowledge.audience import ANONYMOUS, Audience
from knowledge.locales import hc_settings
from knowledge.locations.routing import location_route
from knowledge.locations.selectors import location_by_slug
from knowledge.models import SearchEvent
from knowledge.services.answering import (
    SUGGEST_MAX_CHARS,
    content_locale,
    request_form_click,
    request_form_suggest,
)
from knowledge.services.listening import valid_session_key
from knowledge.views.helpcenter_base import (
    CONTACT_QUERY_PARAM,
    CONTACT_SESSION_PARAM,
    new_session_key,
    set_session_cookie,
    visitor_session_key,
)
from tickets.downloads import attachment_download
from tickets.models import Attachment, CustomField, Status, Ticket, TicketCC
from tickets.services import attachments as attachment_services
from tickets.services.common import TicketClosed
from tickets.services.tickets import SUBJECT_MAX_LENGTH

SUPPORTED = {code for code, _name in settings.LANGUAGES}
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
PASSWORD_KIND = "portal-password"


def portal_language(request, tenant) -> str:
    """``?lang=``, then the remembered choice, then the browser's languages, then the tenant's."""
    for candidate in (request.GET.get("lang"), request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
        if candidate in SUPPORTED:
            return candidate
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        base = code.split("-")[0].lower()
        if base in SUPPORTED:
            return base
    return tenant.default_locale if tenant.default_locale in SUPPORTED else settings.LANGUAGE_CODE


def _zone(*names: str):
    for name in names:
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def signin_url(next_url: str = "") -> str:
    url = reverse("portal:signin")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@method_decorator(never_cache, name="dispatch")
class PortalView(View):
    """The portal's base: tenant host, portal enabled, the visitor's language and zone, and
    the customer's account (``self.account``, None when signed out)."""

    # Signed-out visitors of list pages go to the sign-in page; of object pages get a 404.
    requires_account = False
    object_page = False

    def dispatch(self, request, *args, **kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is None or getattr(request, "is_platform_host", True):
            raise Http404
        self.tenant = tenant
        self.portal = portal_settings_get(tenant=tenant)
        if not self.portal.enabled:
            raise Http404
        self.language = portal_language(request, tenant)
        self.account = auth.current_account(request)
        contact = self.account.contact if self.account else None
        with translation.override(self.language), timezone.override(
                _zone(getattr(contact, "timezone", ""), tenant.timezone)):
            try:
                if self.requires_account and self.account is None:
                    if self.object_page:
                        raise Http404
                    response = HttpResponseRedirect(signin_url(request.get_full_path()))
                else:
                    response = super().dispatch(request, *args, **kwargs)
            except Http404:
                response = self.page("portal/not_found.html", status=404)
        if request.GET.get("lang") in SUPPORTED:
            set_language_cookie(response, request.GET["lang"])
        response.headers.setdefault("Content-Language", self.language)
        return response

    def page(self, template: str, context: dict | None = None, status: int = 200) -> HttpResponse:
        base = {"tenant": self.tenant, "portal": self.portal, "account": self.account,
                "brand_color": _brand_color(self.tenant), "portal_languages": settings.LANGUAGES,
                "LANGUAGE_CODE": self.language}
        return render(self.request, template, {**base, **(context or {})}, status=status)


def _brand_color(tenant) -> str:
    color = tenant.brand_color or ""
    return color if _COLOR.match(color) else DEFAULT_BRAND_COLOR


# --- sign-in -----------------------------------------------------------------------------

@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class SigninView(PortalView):
    def get(self, request):
        next_url = clean_next(request.GET.get("next", ""))
        if self.account is not None:
            return HttpResponseRedirect(next_url or reverse("portal:requests"))
        return self._render(next_url=next_url)

    def post(self, request):
        if request.POST.get("method") == "password":
            return self._password(request)
        form = SigninLinkForm(request.POST)
        if not form.is_valid():
            return self._render(link_form=form, status=400)
        email = form.cleaned_data["email"].strip().lower()
        ip = auth.client_ip(request)
        by_ip = auth.over_limit(kind="link-ip", tenant_id=self.tenant.pk, subject=ip,
                                per_hour=auth.limit("PORTAL_SIGNIN_LINKS_PER_IP_PER_HOUR", 20))
        by_email = auth.over_limit(kind="link-email", tenant_id=self.tenant.pk, subject=email,
                                   per_hour=auth.limit("PORTAL_SIGNIN_LINKS_PER_EMAIL_PER_HOUR", 5))
        if by_ip or by_email:
            form.add_error(None, _("Too many sign-in links were asked for. Try again in an hour."))
            return self._render(link_form=form, status=429)
        tenant = self.tenant
        signin_link_issue(tenant=tenant, email=email, next_url=form.cleaned_data.get("next") or "",
                          language=self.language,
                          url_for_token=lambda token: tenant.absolute_url(reverse("portal:signin_link",
                                                                                  args=[token])))
        # The same answer whether or not the address is known.
        return self.page("portal/signin_sent.html", {"email": email})

    def _password(self, request):
        form = SigninPasswordForm(request.POST)
        if not self.portal.passwords:
            form.is_valid()
            form.add_error(None, _("Passwords are turned off for this portal: ask for a sign-in link."))
            return self._render(password_form=form, status=400)
        if not form.is_valid():
            return self._render(password_form=form, status=400)
        email = form.cleaned_data["email"].strip().lower()
        who, ip = f"{self.tenant.pk}:{email}", auth.client_ip(request)
        locked = ratelimit.locked_for(kind=PASSWORD_KIND, account=who, ip=ip)
        if locked:
            form.add_error(None, _("Too many failed attempts. Try again in %(minutes)d minute(s) or ask for a "
                                   "sign-in link.") % {"minutes": ratelimit.minutes(locked)})
            return self._render(password_form=form, status=429)
        account = account_authenticate(tenant=self.tenant, email=email, password=form.cleaned_data["password"])
        if account is None:
            ratelimit.record_failure(kind=PASSWORD_KIND, account=who, ip=ip)
            form.add_error(None, _("The email address or password is not correct."))
            return self._render(password_form=form, status=400)
        ratelimit.reset(kind=PASSWORD_KIND, account=who, ip=ip)
        auth.portal_login(request, account)
        return HttpResponseRedirect(clean_next(form.cleaned_data.get("next") or "") or reverse("portal:requests"))

    def _render(self, *, link_form=None, password_form=None, next_url: str = "", status: int = 200):
        link_form = link_form or SigninLinkForm(initial={"next": next_url})
        if password_form is None and self.portal.passwords:
            password_form = SigninPasswordForm(initial={"next": next_url or link_form["next"].value()},
                                               auto_id="id_pw_%s")
        elif password_form is not None:
            password_form.auto_id = "id_pw_%s"
        return self.page("portal/signin.html", {"link_form": link_form, "password_form": password_form},
                         status=status)


class SigninLinkView(PortalView):
    """The link from the mail: opening it shows a button; pressing it signs in (mail scanners
    that open links do not spend them)."""

    def get(self, request, token: str):
        link = signin_link_peek(tenant=self.tenant, token=token)
        if link is None:
            return self._invalid()
        return self._no_referrer(self.page("portal/signin_link.html", {"email": link.account.email}))

    def post(self, request, token: str):
        link = signin_link_redeem(tenant=self.tenant, token=token, audit_meta=request_meta(request))
        if link is None:
            return self._invalid()
        auth.portal_login(request, link.account)
        return HttpResponseRedirect(clean_next(link.next_url) or reverse("portal:requests"))

    def _invalid(self):
        return self._no_referrer(self.page("portal/signin_invalid.html", {"link_form": SigninLinkForm()},
                                           status=404))

    @staticmethod
    def _no_referrer(response):
        # The token never goes to another site in a Referer. (Not "no-referrer": browsers then
        # send "Origin: null" with the form, and the CSRF check refuses it.)
        response["Referrer-Policy"] = "same-origin"
        return response


class SignoutView(PortalView):
    http_method_names = ("post",)

    def post(self, request):
        auth.portal_logout(request, self.tenant.pk)
        messages.info(request, _("You are signed out."))
        return HttpResponseRedirect(reverse("portal:signin"))


@method_decorator(sensitive_post_parameters("current_password", "password", "password_again"), name="dispatch")
class AccountView(PortalView):
    requires_account = True

    def get(self, request):
        return self._render(self._form())

    def post(self, request):
        if not self.portal.passwords:
            raise PermissionDenied
        form = self._form(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        try:
            account_password_set(account=self.account, password=form.cleaned_data["password"],
                                 current_password=form.cleaned_data.get("current_password") or "",
                                 audit_meta=request_meta(request))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            return self._render(form, status=400)
        auth.portal_refresh(request, self.account)
        messages.success(request, _("Your password is saved."))
        return HttpResponseRedirect(reverse("portal:account"))

    def _form(self, data=None):
        return PasswordForm(data, has_password=bool(self.account.password)) if self.portal.passwords else None

    def _render(self, form, status: int = 200):
        return self.page("portal/account.html", {"form": form}, status=status)


# --- requests ----------------------------------------------------------------------------

class RequestListView(PortalView):
    requires_account = True

    def get(self, request):
        scopes = selectors.scopes_for(account=self.account, settings=self.portal)
        scope = request.GET.get("scope") if request.GET.get("scope") in scopes else selectors.MINE
        try:
            page = max(1, min(int(request.GET.get("page", "1")), 10_000))
        except ValueError:
            page = 1
        rows, has_next = selectors.request_list(account=self.account, settings=self.portal, scope=scope, page=page)
        labels = {selectors.MINE: _("My requests"), selectors.CC: _("Requests I am CC'd on"),
                  selectors.ORGANIZATION: _("My organization's requests")}
        return self.page("portal/requests.html", {
            "rows": [{"ticket": t, "status": selectors.customer_status(t.status),
                      "status_class": selectors.CUSTOMER_STATUS_CLASS.get(t.status, "open")} for t in rows],
            "tabs": [{"scope": s, "label": labels[s], "current": s == scope} for s in scopes],
            "scope": scope, "page": page, "has_next": has_next, "has_previous": page > 1,
            "show_requester": scope != selectors.MINE,
        })


class RequestNewView(PortalView):
    def location(self):
        """The service location the request is for (``?location=<slug>`` from its help-center
        page, then a hidden field): its team gets the request. An unknown one is ignored."""
        if not hasattr(self, "_location"):
            slug = (self.request.POST.get("location") or self.request.GET.get("location") or "")[:80]
            self._location = location_by_slug(tenant=self.tenant, slug=slug) if slug else None
        return self._location

    def custom_fields(self):
        return list(CustomField.objects.filter(tenant=self.tenant, is_active=True, customer_visible=True)
                    .order_by("position", "key"))

    def visit_key(self) -> str | None:
        """The help-center visit this request may end (deflection figures): the ``hc_session``
        cookie, else the key the help center's "Contact us" link carried (then a hidden field)."""
        request = self.request
        return visitor_session_key(request) or valid_session_key(
            request.POST.get(CONTACT_SESSION_PARAM) or request.GET.get(CONTACT_SESSION_PARAM))

    def form(self, data=None, files=None):
        initial = {STAMP: auth.form_stamp(self.tenant.pk)}
        if self.account is not None:
            initial.update(name=self.account.contact.name, email=self.account.email)
        if data is None and self.request.GET.get(CONTACT_QUERY_PARAM):
            # From the help center's "Contact us" after a search: what they looked for.
            initial["subject"] = " ".join(self.request.GET[CONTACT_QUERY_PARAM].split())[:SUBJECT_MAX_LENGTH]
        return RequestForm(data, files, initial=initial, custom_fields=self.custom_fields(), language=self.language,
                           signed_in=self.account is not None)

    def get(self, request):
        return self._render(self.form())

    def post(self, request):
        form = self.form(request.POST, request.FILES)
        if request.POST.get(HONEYPOT):
            return self._refuse(form, _("Your request was not sent: the form looks filled in by a program. If you "
                                        "are a person, leave the last field empty and send it again."))
        problem = auth.form_stamp_problem(request.POST.get(STAMP, ""), self.tenant.pk)
        if problem is not None:
            return self._refuse(form, {
                auth.FORM_TOO_FAST: _("That was faster than a person can fill in this form. Wait a few seconds "
                                      "and send it again."),
                auth.FORM_EXPIRED: _("This form was open for more than a day. Check your request and send it "
                                     "again."),
                auth.FORM_REPLAYED: _("This form was sent already. Open a new form to write another request."),
            }.get(problem, _("The form could not be checked. Send it again.")))
        if not form.is_valid():
            return self._render(form, status=400)
        email = self.account.email if self.account else form.cleaned_data["email"]
        by_ip = auth.over_limit(kind="submit-ip", tenant_id=self.tenant.pk, subject=auth.client_ip(request),
                                per_hour=auth.limit("PORTAL_REQUESTS_PER_IP_PER_HOUR", 10))
        by_email = auth.over_limit(kind="submit-email", tenant_id=self.tenant.pk, subject=email,
                                   per_hour=auth.limit("PORTAL_REQUESTS_PER_EMAIL_PER_HOUR", 5))
        if by_ip or by_email:
            form.add_error(None, _("Too many requests were sent from here or for this email address. Try again "
                                   "in an hour."))
            return self._render(form, status=429)
        tenant = self.tenant
        route = location_route(self.location()) if self.location() is not None else None
        try:
            submitted = request_submit(
                tenant=tenant, account=self.account, name=form.cleaned_data.get("name") or "", email=email,
                team=route.team if route else None, tags=route.tags if route else (),
                business_hours=route.business_hours if route else None,
                subject=form.cleaned_data["subject"], description=form.cleaned_data["description"],
                custom_fields=form.custom_values(), attachments=form.cleaned_data["attachments"],
                language=self.language, audit_meta=request_meta(request),
                self_service_session=self.visit_key(),
                url_for_token=lambda token: tenant.absolute_url(reverse("portal:signin_link", args=[token])))
        except ValidationError as exc:
            form.add_service_errors(exc)
            return self._render(form, status=400)
        auth.form_stamp_spend(request.POST.get(STAMP, ""))
        return self.page("portal/request_sent.html", {"ticket": submitted.ticket, "email": submitted.email})

    def _refuse(self, form, message: str):
        """Refused before anything else is looked at: a fresh stamp, the honeypot emptied."""
        data = form.data.copy()
        data[STAMP] = auth.form_stamp(self.tenant.pk)
        data[HONEYPOT] = ""
        form.data = data
        form.is_valid()
        form.add_error(None, message)
        return self._render(form, status=400)

    def _render(self, form, status: int = 200):
        row = hc_settings(self.tenant)
        return self.page("portal/request_new.html", {
            "form": form, "max_files": attachment_services.max_per_message(),
            "max_size": attachment_services.max_bytes(),
            "suggest": row.is_enabled and row.suggest_in_request_form, "location": self.location(),
            "visit_key": self.visit_key()}, status=status)


# --- answering first: articles while a request is written --------------------------------

def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


class RequestSuggestView(PortalView):
    """Articles that may answer the request being written, for the form's script (JSON).

    The visit's key comes from the ``hc_session`` cookie (set here when the visitor has none),
    so what they open and whether they then send the request count in the deflection figures.
    The audience is the visitor: a signed-in customer (and their organization) or anyone."""

    def get(self, request):
        row = hc_settings(self.tenant)
        if not (row.is_enabled and row.suggest_in_request_form):
            return JsonResponse({"results": [], "search_id": None})
        if auth.over_limit(kind="suggest-ip", tenant_id=self.tenant.pk, subject=auth.client_ip(request),
                           per_hour=auth.limit("PORTAL_SUGGESTIONS_PER_IP_PER_HOUR", 600)):
            return JsonResponse({"error": {"code": "rate_limited", "message": _(
                "Too many suggestions were asked for from here. Try again later.")}}, status=429)
        key = visitor_session_key(request)
        fresh = key is None
        if fresh:
            key = new_session_key()
        contact = self.account.contact if self.account else None
        audience = (Audience(contact_id=contact.pk, organization_id=contact.organization_id)
                    if contact is not None else ANONYMOUS)
        found = request_form_suggest(
            tenant=self.tenant, text=request.GET.get("q", "")[:SUGGEST_MAX_CHARS],
            locale=content_locale(self.tenant, request.GET.get("locale") or self.language, row),
            audience=audience, session_key=key, previous_search_id=_int_or_none(request.GET.get("search")),
            contact_id=contact.pk if contact is not None else None)
        results = []
        for article in found.articles:
            open_url = article.url
            if found.search_id is not None and clean_next(article.url):
                open_url = (reverse("portal:request_suggest_open", args=[found.search_id]) + "?"
                            + urlencode({"article": article.article_id, "to": article.url}))
            results.append({"article_id": article.article_id, "title": article.title,
                            "snippet": article.snippet_html, "url": article.url, "open_url": open_url})
        response = JsonResponse({"results": results, "search_id": found.search_id})
        if fresh and found.search_id is not None:
            set_session_cookie(response, key)
        return response


class RequestSuggestOpenView(PortalView):
    """A suggestion the visitor opened: counted as the click of their request-form search, then
    on to the article (``to``: a help-center path only, never another site)."""

    model = SearchEvent

    def get(self, request, pk: int):
        if not SearchEvent.objects.filter(tenant=self.tenant, pk=pk).exists():
            raise Http404
        target = clean_next(request.GET.get("to", ""))
        article_id = _int_or_none(request.GET.get("article"))
        if not target or article_id is None:
            return HttpResponseBadRequest(_("This link is not complete."))
        request_form_click(tenant=self.tenant, search_id=pk, article_id=article_id,
                           session_key=visitor_session_key(request))
        return HttpResponseRedirect(target)


def inline_image_url(ticket: Ticket, attachment: Attachment) -> str:
    """Where the customer's browser loads an image a message body shows (``?inline=1``)."""
    return reverse("portal:attachment", args=[ticket.number, attachment.token]) + "?inline=1"


class RequestObjectView(PortalView):
    """A request the signed-in customer may see, by its number (else a 404)."""

    requires_account = True
    object_page = True
    model = Ticket
    slug_field = "number"
    slug_url_kwarg = "number"

    def get_request(self, number: int) -> Ticket:
        ticket = selectors.request_get(account=self.account, settings=self.portal, number=number)
        if ticket is None:
            raise Http404
        return ticket

    def detail(self, ticket: Ticket, *, reply_form=None, status: int = 200) -> HttpResponse:
        contact = self.account.contact
        is_requester = ticket.requester_id == contact.pk
        is_cc = not is_requester and TicketCC.objects.filter(ticket=ticket, contact=contact).exists()
        return self.page("portal/request_detail.html", {
            "ticket": ticket, "status": selectors.customer_status(ticket.status),
            "status_class": selectors.CUSTOMER_STATUS_CLASS.get(ticket.status, "open"),
            "entries": selectors.public_conversation(ticket=ticket,
                                                     image_url=functools.partial(inline_image_url, ticket)),
            "closed": ticket.status == Status.CLOSED, "solved": ticket.status == Status.SOLVED,
            "merged_into": self.merged_into(ticket),
            "can_solve": is_requester and ticket.status in SOLVABLE, "is_requester": is_requester, "is_cc": is_cc,
            "reply_form": reply_form or ReplyForm(),
            "fields": self.visible_fields(ticket),
        }, status=status)

    def merged_into(self, ticket: Ticket) -> Ticket | None:
        """The request this closed one was merged into, when the customer may see it (one
        query, on merged requests only): customer messages written here go there."""
        if ticket.status != Status.CLOSED or ticket.merged_into_id is None:
            return None
        return selectors.request_merged_into(account=self.account, settings=self.portal, ticket=ticket)

    def visible_fields(self, ticket: Ticket) -> list[tuple[str, str]]:
        """(label, value) of the customer-visible custom fields that have a value (one query)."""
        values = ticket.custom_fields or {}
        if not values:
            return []
        out = []
        for field in CustomField.objects.filter(tenant=self.tenant, is_active=True, customer_visible=True,
                                                key__in=list(values)).order_by("position", "key"):
            shown = custom_field_display(field, values.get(field.key), self.language)
            if shown:
                out.append(((field.label_translations or {}).get(self.language) or field.label, shown))
        return out


class RequestDetailView(RequestObjectView):
    def get(self, request, number: int):
        return self.detail(self.get_request(number))


class RequestReplyView(RequestObjectView):
    http_method_names = ("post",)

    def post(self, request, number: int):
        ticket = self.get_request(number)
        form = ReplyForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.detail(ticket, reply_form=form, status=400)
        try:
            message = request_reply(ticket=ticket, contact=self.account.contact, body=form.cleaned_data["body"],
                                    attachments=form.cleaned_data["attachments"], audit_meta=request_meta(request))
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error(None, error)
            return self.detail(ticket, reply_form=form, status=400)
        if message.ticket_id != ticket.pk and ticket.merged_into_id is not None and \
                message.ticket.follow_up_of_id != ticket.pk:
            number = message.ticket.number
            messages.success(request, _("Request #%(old)s was merged into request #%(new)s, so your message was "
                                        "added there.") % {"old": ticket.number, "new": number})
        elif message.ticket_id != ticket.pk:
            number = message.ticket.number
            messages.success(request, _("Request #%(old)s is closed, so your message opened a follow-up: request "
                                        "#%(new)s.") % {"old": ticket.number, "new": number})
        else:
            messages.success(request, _("Your reply was sent."))
        return HttpResponseRedirect(reverse("portal:request", args=[number]) + "#conversation-end")


class RequestSolveView(RequestObjectView):
    http_method_names = ("post",)

    def post(self, request, number: int):
        ticket = self.get_request(number)
        try:
            request_solve_by_requester(ticket=ticket, contact=self.account.contact, audit_meta=request_meta(request))
        except PermissionDenied:
            return self.detail(ticket, status=403)
        except TicketClosed:
            messages.error(request, _("This request is closed already."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Thank you: your request is marked as solved. Reply if you need more help "
                                        "and it will open again."))
        return HttpResponseRedirect(reverse("portal:request", args=[number]))


class AttachmentDownloadView(RequestObjectView):
    """A file of a public message of the customer's request: a download, or with ``?inline=1``
    a raster image shown in a message body (``tickets.downloads``)."""

    model = Attachment
    slug_field = "token"
    slug_url_kwarg = "token"

    def get(self, request, number: int, token: str):
        attachment = selectors.public_attachment(ticket=self.get_request(number), token=token)
        if attachment is None:
            raise Http404
        return attachment_download(attachment, inline=request.GET.get("inline") == "1")
