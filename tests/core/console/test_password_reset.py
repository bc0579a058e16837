"""Password reset by email, through a real local SMTP server, followed to the end."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY

from tests.core.console.conftest import login
from tests.factories import UserFactory, agent_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def _parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def _link(text: str) -> str:
    match = re.search(r"(https?://\S+/console/password-reset/\S+/)", text)
    assert match, text
    return match.group(1)


def test_reset_mail_arrives_with_text_and_html_and_a_link_on_the_tenants_host(acme_client, agent, smtp_inbox):
    response = acme_client.post("/console/password-reset/", {"email": agent.email})
    assert response.status_code == 302 and response["Location"] == "/console/password-reset/sent/"
    assert len(smtp_inbox.messages) == 1
    received = smtp_inbox.messages[0]
    assert received["to"] == [agent.email]
    message = received["message"]
    assert "Reset your password for Acme Ltd" in message["Subject"]
    text, html = _parts(message)
    link = _link(text)
    assert link.startswith("http://acme.localhost/console/password-reset/")
    assert link in html and "<html" in html
    assert "Check your email" in acme_client.get(response["Location"]).content.decode()


def test_following_the_link_sets_a_new_password(acme_client, agent, password, smtp_inbox):
    acme_client.post("/console/password-reset/", {"email": agent.email})
    link = _link(_parts(smtp_inbox.messages[0]["message"])[0])
    path = link.split("acme.localhost", 1)[1]
    page = acme_client.get(path, follow=True)
    assert page.status_code == 200
    form_path = page.redirect_chain[-1][0]
    assert "set-password" in form_path
    assert "Choose a new password" in page.content.decode()
    mismatch = acme_client.post(form_path, {"new_password1": NEW_PASSWORD, "new_password2": "other"})
    assert mismatch.status_code == 400
    done = acme_client.post(form_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/console/password-reset/complete/"
    assert login(acme_client, agent.email, password).status_code == 400
    assert login(acme_client, agent.email, NEW_PASSWORD).status_code == 302
    assert acme_client.session[SESSION_KEY] == str(agent.pk)
    # The link works once.
    acme_client.post("/console/logout/")
    reused = acme_client.get(path, follow=True)
    assert "not valid any more" in reused.content.decode()


def test_a_forged_host_header_never_reaches_the_link(platform_client, agent, smtp_inbox, settings):
    settings.PUBLIC_SCHEME = "https"
    settings.PUBLIC_PORT = ""
    client = platform_client
    response = client.post("/console/password-reset/", {"email": agent.email},
                           HTTP_HOST="127.0.0.1:8443", HTTP_X_FORWARDED_HOST="evil.example")
    assert response.status_code == 302
    text, html = _parts(smtp_inbox.messages[0]["message"])
    link = _link(text)
    assert link.startswith(f"https://{settings.BASE_DOMAIN}/console/password-reset/")
    assert "evil.example" not in text + html and "8443" not in text + html


def test_on_a_tenant_host_only_its_members_get_mail(acme_client, tenant, other_agent, smtp_inbox):
    response = acme_client.post("/console/password-reset/", {"email": other_agent.email})
    assert response.status_code == 302  # same answer: nothing is revealed
    assert smtp_inbox.messages == []


def test_unknown_address_gets_the_same_answer_and_no_mail(acme_client, tenant, smtp_inbox):
    response = acme_client.post("/console/password-reset/", {"email": "nobody@nowhere.test"})
    assert response.status_code == 302
    assert smtp_inbox.messages == []


def test_invalid_email_is_a_400(acme_client, tenant):
    response = acme_client.post("/console/password-reset/", {"email": "not an email"})
    assert response.status_code == 400


def test_the_mail_is_in_the_persons_language(acme_client, tenant, smtp_inbox):
    user = agent_in(tenant, email="ayse@acme.test")
    user.locale = "tr"
    user.save()
    acme_client.post("/console/password-reset/", {"email": user.email})
    message = smtp_inbox.messages[0]["message"]
    text, html = _parts(message)
    assert "parola" in message["Subject"].lower()
    assert "Merhaba" in text and "Merhaba" in html
    assert 'lang="tr"' in html


def test_bad_token_shows_a_clear_page(acme_client, tenant):
    response = acme_client.get("/console/password-reset/MQ/bad-token/")
    assert response.status_code == 200
    assert "not valid any more" in response.content.decode()


def test_user_without_membership_on_platform_host_can_reset_too(platform_client, db, smtp_inbox):
    user = UserFactory(email="loner@example.com")
    platform_client.post("/console/password-reset/", {"email": user.email})
    assert len(smtp_inbox.messages) == 1
