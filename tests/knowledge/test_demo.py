"""The demo tenant's help center: bilingual content, an internal article, visits for the reports."""
from __future__ import annotations

import pytest

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.demo import demo_build
from knowledge.models import Article, ArticleTranslation, SearchEvent, SelfServiceSession, Visibility

pytestmark = pytest.mark.django_db


def test_demo_help_center():
    demo = demo_build(password="demo-password-1")
    with tenant_scope(demo.tenant):
        assert Article.objects.count() >= 10
        assert Article.objects.filter(visibility=Visibility.INTERNAL).count() == 1
        assert ArticleTranslation.objects.filter(locale="tr", status="published").count() >= 9
        assert SearchEvent.objects.filter(result_count=0).exists()
        assert SelfServiceSession.objects.filter(outcome="ticket").exists()
        assert SelfServiceSession.objects.filter(outcome="none").exists()
        assert Article.objects.filter(view_count__gt=0).exists()
    assert any("Help center" in note for note in demo.notes)
