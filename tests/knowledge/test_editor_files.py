"""Files and images of an article in the editor: upload (size limit, refused types, a fake image
stays a plain file), images offered for inline use through the help center's address,
downloads with sniffing off (images as images, the rest as downloads), delete, isolation."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from helpdesk.tenancy.context import tenant_scope
from knowledge.models import ArticleAttachment
from tests.knowledge.editor_fixtures import (  # noqa: F401 - fixtures
    admin_client,
    agent_client,
    b_client,
    kb,
    light_agent,
    light_client,
    other_kb,
)

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, article, name, data, content_type="application/octet-stream", **extra):
    return client.post(reverse("kb:attachment_upload", args=[article.pk]),
                       {"locale": "en", "file": SimpleUploadedFile(name, data, content_type=content_type)}, **extra)


def attachments(tenant, article):
    with tenant_scope(tenant):
        return list(ArticleAttachment.objects.filter(article=article).order_by("id"))


def test_upload_an_image_and_insert_it_inline(tenant, kb, agent_client):
    response = upload(agent_client, kb.article, "map.png", PNG, "image/png")
    assert response.status_code == 302 and response["Location"].endswith("#files")
    (image,) = attachments(tenant, kb.article)
    assert (image.filename, image.content_type, image.size) == ("map.png", "image/png", len(PNG))
    page = agent_client.get(f"{reverse('kb:article_edit', args=[kb.article.pk])}?locale=en").content.decode()
    public = reverse("helpcenter:attachment", args=[image.token, image.filename])
    assert f'data-kb-insert="{public}"' in page and 'data-kb-image="1"' in page
    assert f"&lt;img src=&quot;{public}&quot;" in page or f'&lt;img src="{public}"' in page  # no-JS snippet
    # The image, used in the article's text, survives the sanitiser.
    agent_client.post(f"{reverse('kb:article_edit', args=[kb.article.pk])}?locale=en", {
        "title": "Where is my order?", "body_html": f'<p>See:</p><img src="{public}" alt="map">', "action": "save"})
    with tenant_scope(tenant):
        body = kb.article.translations.get(locale="en").draft_body_html
    assert f'src="{public}"' in body


def test_image_is_served_as_an_image_with_sniffing_off(tenant, kb, agent_client, light_client):
    upload(agent_client, kb.article, "map.png", PNG, "image/png")
    (image,) = attachments(tenant, kb.article)
    response = light_client.get(reverse("kb:attachment", args=[image.token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "attachment" not in response.get("Content-Disposition", "")
    assert b"".join(response.streaming_content) == PNG
    # The help center's address serves it to readers of a published, public article.
    public = reverse("helpcenter:attachment", args=[image.token, image.filename])
    from django.test import Client
    reader = Client(HTTP_HOST="acme.localhost")
    response = reader.get(public)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_other_files_are_downloads_and_active_types_never_render(tenant, kb, agent_client, light_client):
    upload(agent_client, kb.article, "guide.pdf", b"%PDF-1.4 fake", "application/pdf")
    upload(agent_client, kb.article, "page.html", b"<script>alert(1)</script>", "text/html")
    upload(agent_client, kb.article, "logo.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
    upload(agent_client, kb.article, "trick.png", b"<html><script>alert(1)</script>", "image/png")
    pdf, html, svg, trick = attachments(tenant, kb.article)
    assert trick.content_type == "application/octet-stream"  # named like an image, is not one
    for item, expected in ((pdf, "application/pdf"), (html, "application/octet-stream"),
                           (svg, "application/octet-stream"), (trick, "application/octet-stream")):
        response = light_client.get(reverse("kb:attachment", args=[item.token]))
        assert response.status_code == 200
        assert response["Content-Type"] == expected, item.filename
        assert response["Content-Disposition"].startswith("attachment"), item.filename
        assert response["X-Content-Type-Options"] == "nosniff"
    page = agent_client.get(f"{reverse('kb:article_edit', args=[kb.article.pk])}?locale=en").content.decode()
    assert page.count('data-kb-image="1"') == 0


def test_size_limit_empty_files_and_refused_types(tenant, kb, agent_client, settings):
    settings.KB_ATTACHMENT_MAX_BYTES = 1000
    response = upload(agent_client, kb.article, "big.png", PNG + b"\0" * 2000, "image/png")
    assert response.status_code == 400 and "the limit is" in response.content.decode()
    assert upload(agent_client, kb.article, "empty.txt", b"", "text/plain").status_code == 400
    response = upload(agent_client, kb.article, "setup.exe", b"MZ", "application/octet-stream")
    assert response.status_code == 400 and "are not accepted" in response.content.decode()
    assert agent_client.post(reverse("kb:attachment_upload", args=[kb.article.pk]), {"locale": "en"}
                             ).status_code == 400
    assert attachments(tenant, kb.article) == []


def test_upload_from_the_editors_script_answers_json(tenant, kb, agent_client, settings):
    response = upload(agent_client, kb.article, "map.png", PNG, "image/png", HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    data = json.loads(response.content)
    (image,) = attachments(tenant, kb.article)
    assert data["is_image"] is True and data["url"] == reverse("helpcenter:attachment",
                                                               args=[image.token, image.filename])
    settings.KB_ATTACHMENT_MAX_BYTES = 10
    response = upload(agent_client, kb.article, "map.png", PNG, "image/png", HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "the limit is" in json.loads(response.content)["errors"][0]


def test_rights_and_delete(tenant, kb, agent_client, light_client):
    assert upload(light_client, kb.article, "a.txt", b"hi", "text/plain").status_code == 403
    upload(agent_client, kb.article, "a.txt", b"hi", "text/plain")
    (item,) = attachments(tenant, kb.article)
    assert light_client.post(reverse("kb:attachment_delete", args=[item.pk])).status_code == 403
    response = agent_client.post(reverse("kb:attachment_delete", args=[item.pk]), {"locale": "en"})
    assert response.status_code == 302
    assert attachments(tenant, kb.article) == []


def test_another_tenants_files_are_404(tenant, other_tenant, other_kb, kb, admin_client, b_client):
    upload(b_client, other_kb.article, "secret.txt", b"top secret", "text/plain")
    (item,) = attachments(other_tenant, other_kb.article)
    response = admin_client.get(reverse("kb:attachment", args=[item.token]))
    assert response.status_code == 404
    assert admin_client.post(reverse("kb:attachment_delete", args=[item.pk])).status_code == 404
    assert upload(admin_client, other_kb.article, "x.txt", b"x", "text/plain").status_code == 404
    assert len(attachments(other_tenant, other_kb.article)) == 1
