"""The help center on the contact timeline: what a customer searched and read before writing."""
from __future__ import annotations

import pytest

from helpdesk.people import timeline
from knowledge.services import content, listening
from knowledge.services.content import NameInput, TranslationInput
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

KEY = "visit-key-0123456789abcdef"


def test_an_anonymous_visit_joins_the_contact_timeline_when_they_file_a_ticket(in_tenant):
    category = content.category_create(tenant=in_tenant, actor=None, translations=[NameInput("en", "C")])
    section = content.section_create(tenant=in_tenant, actor=None, category=category,
                                     translations=[NameInput("en", "S")])
    article = content.article_create(tenant=in_tenant, actor=None, section=section, translations=[
        TranslationInput("en", "Where is my parcel?", "<p>Track it.</p>", "published")])
    contact, stranger = ContactFactory(tenant=in_tenant), ContactFactory(tenant=in_tenant)

    search = listening.search_record(tenant=in_tenant, query="parcel late", locale="en", source="portal",
                                     result_count=1, session_key=KEY)
    listening.article_view_record(tenant=in_tenant, article=article, locale="en", session_key=KEY,
                                  search_id=search.pk)
    listening.search_record(tenant=in_tenant, query="someone else", locale="en", source="portal",
                            result_count=0, session_key="other-visit-0123456789")
    assert timeline.contact_timeline(tenant=in_tenant, contact=contact).entries == []

    listening.session_outcome_record(tenant=in_tenant, session_key=KEY, outcome="ticket", contact_id=contact.pk)
    entries = timeline.contact_timeline(tenant=in_tenant, contact=contact).entries
    kinds = [e.kind for e in entries]
    assert sorted(kinds) == ["kb_search", "kb_view"]
    view = next(e for e in entries if e.kind == "kb_view")
    assert "Where is my parcel?" in view.title and view.url.startswith(f"/hc/en/articles/{article.pk}-")
    assert "parcel late" in next(e for e in entries if e.kind == "kb_search").title
    assert timeline.contact_timeline(tenant=in_tenant, contact=stranger).entries == []
