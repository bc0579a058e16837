"""The help center's records of what visitors do: article views (with the visitor's session
cookie), "Was this helpful?" votes with and without JavaScript, and the attachments."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.translation import gettext

from helpdesk.tenancy.context import tenant_scope
from knowledge.links import article_path
from knowledge.models import Article, ArticleAttachment, ArticleView, ArticleVote, SelfServiceSession
from tests.knowledge.helpcenter_setup import agent_client, customer, help_center, visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def hc(tenant):
    return help_center(tenant)


def page_path(article, locale="en") -> str:
    response = visitor().get(article_path(locale=locale, article_id=article.pk))
    assert response.status_code == 301
    return response["Location"]


def vote_path(article, locale="en") -> str:
    return f"/hc/{locale}/articles/{article.pk}/vote/"


def counters(tenant, article) -> tuple[int, int, int]:
    with tenant_scope(tenant):
        fresh = Article.objects.get(pk=article.pk)
    return fresh.view_count, fresh.helpful_count, fresh.unhelpful_count


# --- the session cookie and views ---------------------------------------------------------

def test_the_first_page_sets_a_long_lived_private_session_cookie(tenant, hc):
    response = visitor().get("/hc/en/")
    cookie = response.cookies["hc_session"]
    assert 16 <= len(cookie.value) <= 64
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"] == 365 * 24 * 3600
    assert cookie["path"] == "/hc/"


def test_a_visitor_keeps_the_session_cookie(tenant, hc):
    client = visitor()
    key = client.get("/hc/en/").cookies["hc_session"].value
    assert "hc_session" not in client.get("/hc/en/").cookies
    assert client.cookies["hc_session"].value == key


def test_reading_an_article_records_a_view_on_the_visitors_session(tenant, hc):
    client = visitor()
    path = page_path(hc.where, "tr")
    client.get(path)
    client.get(path)
    key = client.cookies["hc_session"].value
    with tenant_scope(tenant):
        views = list(ArticleView.objects.filter(article=hc.where))
        session = SelfServiceSession.objects.get(key=key)
    assert len(views) == 2 and {v.locale for v in views} == {"tr"} and {v.session_id for v in views} == {session.pk}
    assert session.view_count == 2
    assert counters(tenant, hc.where)[0] == 2


def test_a_fallback_view_is_recorded_in_the_language_read(tenant, hc):
    client = visitor()
    client.get(page_path(hc.address, "tr"))
    with tenant_scope(tenant):
        assert ArticleView.objects.get(article=hc.address).locale == "en"


def test_a_signed_in_customers_view_carries_the_contact(tenant, hc):
    client, contact = customer(tenant)
    client.get(page_path(hc.where))
    with tenant_scope(tenant):
        assert ArticleView.objects.get(article=hc.where).contact_id == contact.pk


def test_agents_views_are_not_counted(tenant, hc, agent):
    client = agent_client(agent)
    assert client.get(page_path(hc.where)).status_code == 200
    with tenant_scope(tenant):
        assert not ArticleView.objects.exists()
    assert counters(tenant, hc.where)[0] == 0


def test_redirects_and_404s_record_nothing(tenant, hc):
    visitor().get(article_path(locale="en", article_id=hc.where.pk))  # the slug redirect
    visitor().get(page_path(hc.where).replace("/en/", "/de/"))        # another language's redirect
    visitor().get(article_path(locale="en", article_id=hc.internal.pk, title="Secret carrier hotline"))
    with tenant_scope(tenant):
        assert not ArticleView.objects.exists()


# --- votes -------------------------------------------------------------------------------

def test_a_vote_without_javascript_is_a_form_post_that_comes_back_to_the_article(tenant, hc):
    client = visitor()
    path = page_path(hc.where)
    client.get(path)
    response = client.post(vote_path(hc.where), {"helpful": "yes"})
    assert response.status_code == 303 and response["Location"] == path + "?voted=1#feedback"
    page = client.get(response["Location"]).content.decode()
    assert "Thank you for your feedback." in page and "You said this article helped." in page
    assert counters(tenant, hc.where) == (1, 1, 0)  # coming back after the vote is not another view


def test_a_second_vote_changes_the_first_and_a_comment_is_kept(tenant, hc):
    client = visitor()
    client.get(page_path(hc.where))
    client.post(vote_path(hc.where), {"helpful": "yes"})
    client.post(vote_path(hc.where), {"helpful": "no", "comment": "The link in the mail is broken."})
    assert counters(tenant, hc.where)[1:] == (0, 1)
    with tenant_scope(tenant):
        vote = ArticleVote.objects.get()
    assert vote.helpful is False and vote.comment == "The link in the mail is broken."
    assert vote.voter_key.startswith("session:") and client.cookies["hc_session"].value not in vote.voter_key
    page = client.get(page_path(hc.where)).content.decode()
    assert "You said this article did not help." in page and "The link in the mail is broken." in page


def test_a_vote_with_javascript_answers_with_the_updated_box(tenant, hc):
    client = visitor()
    client.get(page_path(hc.where, "tr"))
    response = client.post(vote_path(hc.where, "tr"), {"helpful": "no"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    data = response.json()
    assert data["helpful"] is False
    with translation.override("tr"):
        thanks = gettext("Thank you for your feedback.")
    assert thanks in data["html"] and 'aria-pressed="true"' in data["html"]
    with tenant_scope(tenant):
        assert ArticleVote.objects.get().locale == "tr"


def test_customers_and_agents_vote_as_themselves(tenant, hc, agent):
    client, contact = customer(tenant)
    client.post(vote_path(hc.where), {"helpful": "yes"})
    agent_client(agent).post(vote_path(hc.where), {"helpful": "no"})
    with tenant_scope(tenant):
        keys = dict(ArticleVote.objects.values_list("voter_key", "contact_id"))
    assert keys == {f"contact:{contact.pk}": contact.pk, f"user:{agent.pk}": None}


@pytest.mark.parametrize("data", [{}, {"helpful": "maybe"}, {"helpful": "yes", "comment": "x" * 2001}])
def test_bad_votes_are_a_400_and_change_nothing(tenant, hc, data):
    client = visitor()
    response = client.post(vote_path(hc.where), data)
    assert response.status_code == 400
    json_response = client.post(vote_path(hc.where), data, HTTP_ACCEPT="application/json")
    assert json_response.status_code == 400 and json_response.json()["error"]
    with tenant_scope(tenant):
        assert not ArticleVote.objects.exists()


@pytest.mark.parametrize("name", ["internal", "members", "partners", "draft"])
def test_votes_on_articles_the_visitor_may_not_read_are_a_404(tenant, hc, name):
    response = visitor().post(vote_path(getattr(hc, name)), {"helpful": "yes"})
    assert response.status_code == 404
    with tenant_scope(tenant):
        assert not ArticleVote.objects.exists()


def test_votes_are_rate_limited_per_address(tenant, hc, settings):
    settings.HELPCENTER_VOTES_PER_IP_PER_HOUR = 2
    for n in range(2):
        assert visitor().post(vote_path(hc.where), {"helpful": "yes"}).status_code == 303
    response = visitor().post(vote_path(hc.where), {"helpful": "yes"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 429
    assert counters(tenant, hc.where)[1] == 2


def test_a_vote_on_another_tenants_article_is_a_404(tenant, hc, other_tenant):
    response = visitor(host="globex.localhost").post(vote_path(hc.where), {"helpful": "yes"})
    assert response.status_code == 404


# --- attachments -------------------------------------------------------------------------

def _attach(tenant, article, name, content_type, data=b"data"):
    with tenant_scope(tenant):
        return ArticleAttachment.objects.create(tenant=tenant, article=article, filename=name,
                                                content_type=content_type, size=len(data),
                                                file=SimpleUploadedFile(name, data))


def test_attachments_are_listed_and_served_safely(tenant, hc):
    pdf = _attach(tenant, hc.where, "guide.pdf", "application/pdf")
    png = _attach(tenant, hc.where, "map.png", "image/png", b"\x89PNG")
    page = visitor().get(page_path(hc.where)).content.decode()
    assert f"/hc/article_attachments/{pdf.token}/guide.pdf" in page
    response = visitor().get(f"/hc/article_attachments/{pdf.token}/guide.pdf")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    response = visitor().get(f"/hc/article_attachments/{png.token}/map.png")
    assert response["Content-Type"] == "image/png" and not response.get("Content-Disposition", "").startswith(
        "attachment")


def test_attachments_of_hidden_articles_and_other_tenants_are_404(tenant, hc, other_tenant):
    secret = _attach(tenant, hc.internal, "secret.pdf", "application/pdf")
    assert visitor().get(f"/hc/article_attachments/{secret.token}/secret.pdf").status_code == 404
    public = _attach(tenant, hc.where, "guide.pdf", "application/pdf")
    response = visitor(host="globex.localhost").get(f"/hc/article_attachments/{public.token}/guide.pdf")
    assert response.status_code == 404
