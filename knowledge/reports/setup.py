"""Wiring of the listening reports, called once from ``KnowledgeConfig.ready()``: their event
types, the consumer that resolves gaps when their article is published, the console entry
and the Celery tasks."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

GAPS_CONSUMER = "kb.gaps"


def listening_ready() -> None:
    from helpdesk.console import nav
    from helpdesk.events.registry import register_consumer
    from helpdesk.events.types import register_event_type
    from helpdesk.tenancy.roles import Cap
    from knowledge import tasks_listening  # noqa: F401 - registers the Celery tasks
    from knowledge.services.gaps import gaps_article_published

    register_event_type("kb.gap.drafted", _("A content gap was turned into a draft article."),
                        push_to_agents=False)
    register_event_type("kb.gap.dismissed", _("A content gap was dismissed."), push_to_agents=False)
    register_event_type("kb.gap.reopened", _("A dismissed content gap was reopened."), push_to_agents=False)
    register_consumer(GAPS_CONSUMER, gaps_article_published, event_types=("kb.article.published",))
    nav.register(key="kb_reports", label=_("Help center reports"), url_name="kb:reports",
                 capability=Cap.REPORTS_VIEW, icon="chart", order=60)
