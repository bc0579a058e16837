"""Inline ``cid:`` images of inbound mail, end to end: parsed and stored with their Content-ID,
shown in the message body on the console and the portal (each through its own authorised
link), served inline only when the bytes really are the raster image they claim to be, and
left out of the attachment list; nothing else a mail says about images ever reaches a page."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from channels_hub.email.html import sanitize_html
from channels_hub.models import InboundEmail, InboundSource, InboundStatus
from channels_hub.services.inbound import inbound_store
from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.factories import PortalAccountFactory
from tests.channels_hub.mail import email_channel
from tests.channels_hub.test_portal import sign_in
from tests.factories import ContactFactory
from tests.queries import QueryCounter
from tests.tickets.console.conftest import OTHER_HOST, client_for
from tests.tickets.factories import AttachmentFactory, MessageFactory, TicketFactory
from tickets.inline_images import image_signature_matches
from tickets.models import Attachment, Message, MessageKind, Ticket
from tickets.services.content import prepare_body

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
CORPUS = Path(__file__).parent / "email_corpus"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
OUTLOOK_CID = "image001.png@01DA4B2C.5F3E1A20"
APPLE_CID = "5E3F2A10-1B2C-4D5E-8F90-A1B2C3D4E5F6"


def b64(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return "\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def outlook_mail(*, message_id: str = "<outlook-cid-1@contoso.example>", html: str = "",
                 parts: tuple[tuple[str, str, str, bytes], ...] | None = None) -> bytes:
    """Outlook's shape: mixed[related[alternative[plain, html], image…], attachment…].
    ``parts``: (content type, file name, Content-ID, bytes) of the related images."""
    html = html or (f'<html><body><p>The error:</p><p><img width="468" height="60" id="Picture_x0020_1" '
                    f'style="width:4.875in" src="cid:{OUTLOOK_CID}" alt="screenshot of the error"></p>'
                    f"<p>Regards, Sam</p></body></html>")
    if parts is None:
        parts = (("image/png", "image001.png", OUTLOOK_CID, PNG),)
    related = "".join(
        f"--rel\r\nContent-Type: {kind}; name=\"{name}\"\r\nContent-Description: {name}\r\n"
        f"Content-Disposition: inline; filename=\"{name}\"; size={len(data)}\r\nContent-ID: <{cid}>\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{b64(data)}\r\n\r\n"
        for kind, name, cid, data in parts)
    return (
        f"From: Sam Carter <sam@contoso.example>\r\nTo: support@acme.test\r\nSubject: Error on checkout\r\n"
        f"Date: Mon, 22 Jan 2024 10:00:00 +0000\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        f"X-Mailer: Microsoft Outlook 16.0\r\nContent-Type: multipart/mixed; boundary=\"mixed\"\r\n\r\n"
        f"--mixed\r\nContent-Type: multipart/related; type=\"multipart/alternative\"; boundary=\"rel\"\r\n\r\n"
        f"--rel\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
        f"--alt\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\r\nThe error:\r\n\r\n[cid:{OUTLOOK_CID}]\r\n\r\n"
        f"Regards, Sam\r\n\r\n"
        f"--alt\r\nContent-Type: text/html; charset=\"us-ascii\"\r\n\r\n{html}\r\n\r\n--alt--\r\n\r\n"
        f"{related}--rel--\r\n\r\n"
        f"--mixed\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\n"
        f"Content-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{b64(PDF)}\r\n\r\n--mixed--\r\n"
    ).encode()


def apple_mail() -> bytes:
    """Apple Mail's shape: alternative[plain, related[html, image, attachment]] (a corpus file)."""
    return (CORPUS / "61-apple-mail-html-cid-image-and-pdf.eml").read_bytes()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def receive(tenant, django_capture_on_commit_callbacks):
    channel = email_channel(tenant)

    def receive(raw: bytes) -> tuple[Ticket, Message]:
        with django_capture_on_commit_callbacks(execute=True):
            stored = inbound_store(channel=channel, raw=raw, source=InboundSource.HOOK)
        with tenant_scope(tenant):
            inbound = InboundEmail.objects.get(pk=stored.pk)
            assert inbound.status == InboundStatus.PROCESSED, inbound.error
            return inbound.ticket, inbound.ticket_message

    return receive


@pytest.fixture
def agent_client(agent) -> Client:
    return client_for(agent)


def files_of(message: Message) -> dict[str, Attachment]:
    with tenant_scope(message.tenant):
        return {file.filename: file for file in Attachment.objects.filter(message=message)}


def console_page(client: Client, ticket: Ticket) -> str:
    response = client.get(f"/console/tickets/{ticket.number}/")
    assert response.status_code == 200
    return response.content.decode()


def console_image(file: Attachment) -> str:
    return f"/console/tickets/attachments/{file.token}/?inline=1"


def listed(html: str, file: Attachment) -> bool:
    return f"/attachments/{file.token}/\" download" in html


def images(html: str) -> list[str]:
    return re.findall(r"<img [^>]*>", html)


# --- stored ------------------------------------------------------------------------------

@pytest.mark.parametrize(("mail", "image", "content_id"), [
    (outlook_mail, "image001.png", OUTLOOK_CID),
    (apple_mail, "lid.png", APPLE_CID),
])
def test_an_inline_image_is_stored_with_its_content_id_and_shown_in_the_body(receive, agent_client, mail, image,
                                                                             content_id):
    ticket, message = receive(mail())
    files = files_of(message)
    assert (files[image].content_id, files[image].inline, files[image].content_type) == (content_id, True,
                                                                                          "image/png")
    assert (files["invoice.pdf"].content_id, files["invoice.pdf"].inline) == ("", False)
    assert f'src="cid:{content_id}"' in message.body_html

    html = console_page(agent_client, ticket)
    shown = images(html)
    assert len(shown) == 1 and f'src="{console_image(files[image])}"' in shown[0]
    assert "style" not in shown[0] and "id=" not in shown[0]
    assert console_image(files["invoice.pdf"]) not in html
    assert listed(html, files["invoice.pdf"]) and not listed(html, files[image])

    response = agent_client.get(console_image(files[image]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png" and response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert b"".join(response.streaming_content) == PNG
    plain = agent_client.get(f"/console/tickets/attachments/{files[image].token}/")
    assert plain["Content-Disposition"].startswith("attachment")


def test_the_outlook_image_keeps_alt_and_numeric_size_only(receive, agent_client):
    ticket, message = receive(outlook_mail())
    [shown] = images(console_page(agent_client, ticket))
    attributes = dict(re.findall(r'(\w+)="([^"]*)"', shown))
    assert set(attributes) == {"src", "alt", "width", "height"}
    assert (attributes["alt"], attributes["width"], attributes["height"]) == ("screenshot of the error", "468", "60")


def test_an_inline_image_the_body_does_not_show_stays_in_the_list(receive, agent_client):
    spare = ("image/png", "image002.png", "image002.png@01DA4B2C.5F3E1A20", PNG)
    ticket, message = receive(outlook_mail(parts=(("image/png", "image001.png", OUTLOOK_CID, PNG), spare)))
    files = files_of(message)
    assert files["image002.png"].inline and files["image002.png"].content_id == spare[2]
    html = console_page(agent_client, ticket)
    assert len(images(html)) == 1
    assert listed(html, files["image002.png"]) and not listed(html, files["image001.png"])


# --- never shown -------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "name", "data"), [
    ("image/svg+xml", "logo.svg", SVG),
    ("text/html", "logo.html", b"<script>alert(1)</script>"),
])
def test_an_svg_or_html_part_with_a_content_id_is_never_shown_inline(receive, agent_client, kind, name, data):
    html = '<p>Logo: <img src="cid:logo@contoso.example" alt="our logo"></p>'
    ticket, message = receive(outlook_mail(html=html, parts=((kind, name, "logo@contoso.example", data),)))
    file = files_of(message)[name]
    assert file.content_id == "logo@contoso.example"
    page = console_page(agent_client, ticket)
    assert images(page) == [] and "our logo" in page  # the alt text stands in
    assert listed(page, file)
    response = agent_client.get(console_image(file))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_file_declared_png_that_is_not_a_png_is_served_as_a_download(receive, agent_client):
    fake = b"<html><script>alert(1)</script></html>"
    ticket, message = receive(outlook_mail(parts=(("image/png", "image001.png", OUTLOOK_CID, fake),)))
    file = files_of(message)["image001.png"]
    response = agent_client.get(console_image(file))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == fake


def test_hostile_image_sources_are_stripped(receive, agent_client):
    html = ('<p>a<img src="javascript:alert(1)" alt="js"><img src="data:image/png;base64,AAAA" alt="data">'
            '<img src="http://evil.example/track.png" alt="tracker"><img src="track.png" alt="relative">'
            '<img src=" JaVaScRiPt:alert(2)"><img srcset="http://evil.example/x.png 1x" alt="set">'
            f'<img src="cid:{OUTLOOK_CID}" onerror="alert(3)" style="position:fixed" title="t">b</p>')
    ticket, message = receive(outlook_mail(html=html))
    stored = message.body_html.lower()
    for forbidden in ("javascript", "data:", "evil.example", "track.png", "onerror", "style", "srcset"):
        assert forbidden not in stored, forbidden
    assert stored.count("<img") == 1
    page = console_page(agent_client, ticket)
    [shown] = images(page)
    assert shown == f'<img src="{console_image(files_of(message)["image001.png"])}">'


def test_a_cid_image_without_its_part_is_stored_as_its_alt_text(receive, agent_client):
    html = (f'<p>Before <img src="cid:{OUTLOOK_CID}" alt="shown"> and '
            '<img src="cid:lost@contoso.example" alt="the part that was not sent"> after</p>')
    ticket, message = receive(outlook_mail(html=html))
    assert message.body_html.count("<img") == 1 and "lost@contoso" not in message.body_html
    assert "the part that was not sent after" in message.body_html


def test_sanitisers_keep_only_cid_images():
    for sanitise in (sanitize_html, lambda html: prepare_body(html, content_ids=["a@b"]).html):
        assert sanitise('<img src="cid:a@b" alt="x" width="10" height="1e3" border="1">') == \
            '<img src="cid:a@b" alt="x" width="10">'
        for src in ("javascript:alert(1)", "data:image/png;base64,AAAA", "http://e.example/x.png", "x.png", ""):
            assert "<img" not in sanitise(f'<p>t<img src="{src}" alt="x"></p>'), src
        assert "cid:" not in sanitise('<a href="cid:a@b">x</a>')


def test_image_signatures():
    assert image_signature_matches(PNG[:16], "image/png")
    assert not image_signature_matches(PNG[:16], "image/jpeg")
    assert image_signature_matches(b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg")
    assert image_signature_matches(b"GIF89a\x01\x00", "image/gif")
    assert image_signature_matches(b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp")
    assert not image_signature_matches(b"RIFF\x24\x00\x00\x00WAVEfmt ", "image/webp")
    assert not image_signature_matches(SVG[:16], "image/svg+xml")


# --- which message, which tenant ----------------------------------------------------------

def test_a_cid_resolves_only_to_a_file_of_the_same_message(tenant, other_tenant, agent_client):
    ticket = TicketFactory(tenant=tenant)
    first = MessageFactory(tenant=tenant, ticket=ticket, body_html='<p><img src="cid:shared@x" alt="one"></p>')
    second = MessageFactory(tenant=tenant, ticket=ticket, body_html='<p><img src="cid:shared@x" alt="two"></p>')
    third = MessageFactory(tenant=tenant, ticket=ticket, body_html='<p><img src="cid:theirs@x" alt="three"></p>')
    own = AttachmentFactory(tenant=tenant, ticket=ticket, message=first, filename="a.png", content_type="image/png",
                            content_id="shared@x", inline=True, file__data=PNG, file__filename="a.png")
    elsewhere = TicketFactory(tenant=other_tenant)
    AttachmentFactory(tenant=other_tenant, ticket=elsewhere,
                      message=MessageFactory(tenant=other_tenant, ticket=elsewhere),
                      filename="b.png", content_type="image/png", content_id="theirs@x", file__data=PNG)
    html = console_page(agent_client, ticket)
    assert images(html) == [f'<img src="{console_image(own)}" alt="one">']
    for alt in ("two", "three"):
        assert alt in re.search(rf'id="message-{(second if alt == "two" else third).pk}".*?</li>', html, re.S).group(0)


def test_another_tenants_agent_gets_a_404_for_the_inline_image(receive, other_agent):
    _ticket, message = receive(outlook_mail())
    file = files_of(message)["image001.png"]
    response = client_for(other_agent, OTHER_HOST).get(console_image(file))
    assert response.status_code == 404 and PNG not in response.content


def test_the_page_costs_the_same_queries_however_many_images(tenant, agent_client, django_assert_num_queries):
    ticket = TicketFactory(tenant=tenant)

    def add(count: int) -> None:
        for _ in range(count):
            message = MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC,
                                     body_html='<p><img src="cid:a@x"><img src="cid:b@x"></p>')
            for content_id in ("a@x", "b@x"):
                AttachmentFactory(tenant=tenant, ticket=ticket, message=message, filename=f"{content_id}.png",
                                  content_type="image/png", content_id=content_id, inline=True, file__data=PNG)
            AttachmentFactory(tenant=tenant, ticket=ticket, message=message)

    add(1)
    with QueryCounter(connection) as small:
        assert len(images(console_page(agent_client, ticket))) == 2
    add(6)
    with django_assert_num_queries(len(small.captured_queries)):
        html = console_page(agent_client, ticket)
    assert len(images(html)) == 14 and html.count("invoice.pdf") == 7


# --- portal ------------------------------------------------------------------------------

def test_the_portal_shows_the_image_to_its_requester_only(receive, tenant):
    ticket, message = receive(outlook_mail())
    file = files_of(message)["image001.png"]
    with tenant_scope(tenant):
        requester = Ticket.objects.select_related("requester").get(pk=ticket.pk).requester
    account = PortalAccountFactory(tenant=tenant, contact=requester, email="sam@contoso.example")
    customer = sign_in(Client(HTTP_HOST=HOST), account)
    url = f"/hc/requests/{ticket.number}/attachments/{file.token}/?inline=1"
    response = customer.get(f"/hc/requests/{ticket.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert images(html) == [f'<img src="{url}" alt="screenshot of the error" width="468" height="60">']
    assert "invoice.pdf" in html and f"/attachments/{file.token}/\" download" not in html
    served = customer.get(url)
    assert served.status_code == 200 and served["Content-Disposition"].startswith("inline")
    assert served["Cross-Origin-Resource-Policy"] == "same-origin"

    stranger = PortalAccountFactory(tenant=tenant, contact=ContactFactory(tenant=tenant),
                                    email="stranger@example.org")
    outsider = sign_in(Client(HTTP_HOST=HOST), stranger)
    assert outsider.get(f"/hc/requests/{ticket.number}/").status_code == 404
    assert outsider.get(url).status_code == 404
    assert Client(HTTP_HOST=HOST).get(url).status_code == 404


# --- API ---------------------------------------------------------------------------------

def test_the_api_says_which_files_are_inline_and_their_content_id(receive, api_client, other_api_client):
    ticket, message = receive(outlook_mail())
    response = api_client.get(f"/api/v1/tickets/{ticket.pk}/messages/")
    assert response.status_code == 200
    [entry] = [item for item in response.json()["results"] if item["id"] == message.pk]
    assert [(file["filename"], file["inline"], file["content_id"]) for file in entry["attachments"]] == [
        ("image001.png", True, OUTLOOK_CID), ("invoice.pdf", False, "")]
    assert other_api_client.get(f"/api/v1/tickets/{ticket.pk}/messages/").status_code == 404
