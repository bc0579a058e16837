"""The help-center editor in a real browser: formatting with the toolbar, a paste that carries
script (cleaned in the page, and again on save), an image uploaded in place and inserted at
the cursor, and a draft of a published article that readers do not see.

Run on their own: ``RUN_E2E=1 python -m pytest -m e2e tests/e2e/test_kb_editor.py -p no:xdist``.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.models import Article, ArticleTranslation, TranslationStatus
from knowledge.services.content import TranslationInput, article_create
from tests.e2e.helpers import acme_desk, signed_in
from tests.e2e.test_kb_agent import in_thread, tenant_url
from tests.factories import agent_in
from tests.knowledge.editor_fixtures import make_kb

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def test_an_editor_formats_pastes_inserts_an_image_and_saves_a_draft(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    desk = acme_desk()
    acme = desk["tenant"]
    editor = agent_in(acme, role=Role.ADMIN, email="editor@acme.test")
    kb = in_thread(lambda: make_kb(acme))
    base = tenant_url(live_server.url)
    context = signed_in(browser, editor, base)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(f"{base}/console/kb/articles/{kb.article.pk}/edit/?locale=en")
        rich = page.get_by_role("textbox", name="Article body (rich text)")
        expect(rich).to_be_visible()
        expect(page.locator("textarea[name=body_html]")).to_be_hidden()  # the fallback, under the editor
        expect(rich).to_contain_text("Open the tracking link.")

        # Write a new paragraph, make a word bold with the toolbar, make a heading.
        rich.click()
        page.keyboard.press("Control+End")
        page.keyboard.press("Enter")
        page.keyboard.type("Call us ")
        page.get_by_role("button", name="Bold").click()
        page.keyboard.type("today")
        page.get_by_role("button", name="Bold").click()
        page.keyboard.press("Enter")
        page.keyboard.type("Still lost?")
        page.get_by_role("button", name="Heading", exact=True).click()
        expect(rich.locator("b, strong")).to_have_text("today")
        expect(rich.locator("h2")).to_have_text("Still lost?")

        # A paste that carries script is cleaned before it reaches the page.
        page.keyboard.press("Control+End")
        page.keyboard.press("Enter")
        page.evaluate("""() => {
            const data = new DataTransfer();
            data.setData('text/html', '<p>Pasted <b>bold</b><img src=x onerror="alert(1)"><script>alert(2)</script></p>');
            const rich = document.querySelector('.kb-rich');
            rich.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        }""")
        expect(rich).to_contain_text("Pasted bold")
        assert rich.locator("img").count() == 0 and rich.locator("script").count() == 0

        # Upload an image in place: it lands in the files list and at the cursor.
        page.locator("input[type=file]").set_input_files(
            {"name": "map.png", "mimeType": "image/png", "buffer": PNG})
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("[data-kb-upload-status]")).to_have_text("map.png")
        expect(rich.locator("img")).to_have_count(1)
        src = rich.locator("img").get_attribute("src")
        assert re.match(r"^/hc/article_attachments/[\w-]+/map\.png$", src)

        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_text("Draft saved.")).to_be_visible()
        expect(page.get_by_text("Unpublished changes.")).to_be_visible()
        assert dialogs == []
    finally:
        context.close()

    with tenant_scope(acme):
        t = ArticleTranslation.objects.get(article=kb.article, locale="en")
    assert t.status == TranslationStatus.PUBLISHED and t.body_html == "<p>Open the tracking link.</p>"
    assert t.has_draft
    draft = t.draft_body_html
    assert "<strong>today</strong>" in draft and "<h2>Still lost?</h2>" in draft
    assert f'src="{src}"' in draft and "onerror" not in draft and "<script" not in draft


def test_without_javascript_the_textarea_is_the_editor(browser, live_server):
    desk = acme_desk()
    acme = desk["tenant"]
    editor = agent_in(acme, role=Role.ADMIN, email="editor@acme.test")
    kb = in_thread(lambda: make_kb(acme))
    second = in_thread(lambda: _second_article(acme, kb.section))
    base = tenant_url(live_server.url)
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    context.add_cookies([{"name": "sessionid", "value": signed_in_cookie(editor), "url": base}])
    page = context.new_page()
    try:
        page.goto(f"{base}/console/kb/articles/{kb.draft.pk}/edit/?locale=en")
        box = page.get_by_label("Body")
        expect(box).to_be_visible()
        box.fill("<p>Plain <em>HTML</em></p>")
        page.get_by_role("button", name="Submit for review").click()
        expect(page.get_by_text("Submitted for review.")).to_be_visible()
        # Reorder without JavaScript: the move buttons are forms.
        page.goto(f"{base}/console/kb/")
        page.locator(f"#article-{second.pk}").get_by_role("button", name="Move article up").click()
        expect(page).to_have_url(re.compile(rf"/console/kb/#article-{second.pk}$"))
    finally:
        context.close()
    with tenant_scope(acme):
        t = ArticleTranslation.objects.get(article=kb.draft, locale="en")
        order = list(Article.objects.filter(section=kb.section).order_by("position", "id")
                     .values_list("pk", flat=True))
    assert (t.status, t.body_html) == (TranslationStatus.REVIEW, "<p>Plain <em>HTML</em></p>")
    assert order == [second.pk, kb.article.pk]


def _second_article(tenant, section):
    with tenant_scope(tenant):
        return article_create(tenant=tenant, actor=None, section=section, translations=[
            TranslationInput("en", "Second", "<p>x</p>", TranslationStatus.PUBLISHED)])


def signed_in_cookie(user) -> str:
    from django.test import Client

    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(user)
    return client.cookies["sessionid"].value
