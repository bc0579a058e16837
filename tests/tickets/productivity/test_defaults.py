"""Default views and macros of a new tenant, in its language."""
import datetime as dt

import pytest
from django.utils import timezone

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant
from helpdesk.tenancy.services import _TENANT_DEFAULTS, tenant_create
from tests.factories import agent_in
from tests.tickets.factories import TicketFactory
from tickets import productivity
from tickets.models import Macro, SavedView, Ticket, Via
from tickets.productivity import defaults
from tickets.productivity.macros import macro_apply
from tickets.productivity.views import view_tickets

pytestmark = pytest.mark.django_db
KEYS = ["my_open", "unassigned", "breaching_soon", "pending", "recently_solved"]


def test_register_adds_the_defaults_once():
    productivity.register()
    productivity.register()
    assert _TENANT_DEFAULTS.count(defaults.productivity_defaults_create) == 1


def test_a_new_tenant_starts_with_the_views_and_macros():
    productivity.register()
    tenant = tenant_create(slug="fresh", name="Fresh Ltd", owner_email="boss@fresh.test", owner_password="x" * 12)
    with tenant_scope(tenant):
        views = list(SavedView.objects.order_by("position"))
        assert [v.key for v in views] == KEYS
        assert [v.name for v in views] == ["My open tickets", "Unassigned tickets", "Breaching soon",
                                           "Pending tickets", "Recently solved"]
        assert all(v.owner_id is None and v.is_active for v in views)
        macros = list(Macro.objects.order_by("position"))
        assert [m.name for m in macros] == ["Ask for details", "Solved – thank you", "Escalate to urgent"]
        assert macros[0].actions == [{"field": "status", "value": "pending"}]
        assert macros[2].actions == [{"field": "priority", "value": "urgent"},
                                     {"field": "add_tags", "value": ["escalated"]}]
        assert "{{ requester.first_name }}" in macros[0].reply["en"]
        assert macros[2].reply == {}
        # Running the defaults again adds nothing.
        defaults.productivity_defaults_create(tenant)
        assert SavedView.objects.count() == 5 and Macro.objects.count() == 3


def test_names_follow_the_tenant_language_and_replies_keep_every_language(monkeypatch):
    """The mechanism, independent of the catalogue: names in the tenant's language, a reply
    per language that has a translation."""
    from django.utils import translation

    fake_tr = {"My open tickets": "Açık taleplerim", "Ask for details": "Ayrıntı iste",
               defaults.ASK_FOR_DETAILS_REPLY: "Merhaba {{ requester.first_name }}"}

    def fake_gettext(msgid):
        return fake_tr.get(msgid, msgid) if translation.get_language() == "tr" else msgid

    monkeypatch.setattr(defaults, "gettext", fake_gettext)
    tenant = Tenant.objects.create(slug="turk", name="Türk Ltd", default_locale="tr")
    with tenant_scope(tenant):
        defaults.productivity_defaults_create(tenant)
        assert SavedView.objects.get(key="my_open").name == "Açık taleplerim"
        ask = Macro.objects.get(position=0)
        assert ask.name == "Ayrıntı iste"
        assert ask.reply == {"en": defaults.ASK_FOR_DETAILS_REPLY, "tr": "Merhaba {{ requester.first_name }}"}
        # Not translated in this fake catalogue: English only, not English filed under "tr".
        assert set(Macro.objects.get(position=1).reply) == {"en"}


def test_a_turkish_tenant_gets_turkish_defaults():
    """With the shipped catalogue (locale/tr): needs the productivity strings translated."""
    productivity.register()
    tenant = tenant_create(slug="istanbul", name="İstanbul A.Ş.", owner_email="patron@ist.test",
                           owner_password="x" * 12, default_locale="tr")
    with tenant_scope(tenant):
        assert list(SavedView.objects.order_by("position").values_list("name", flat=True)) == [
            "Açık taleplerim", "Atanmamış talepler", "SLA süresi dolmak üzere", "Bekleyen talepler",
            "Son çözülenler"]
        macros = list(Macro.objects.order_by("position"))
        assert [m.name for m in macros] == ["Ayrıntı iste", "Çözüldü – teşekkürler", "Acile yükselt"]
        assert macros[0].reply["tr"].startswith("Merhaba {{ requester.first_name }},")
        assert macros[0].reply["en"].startswith("Hi {{ requester.first_name }},")


def test_the_default_views_select_what_their_names_say(tenant):
    productivity.register()
    with tenant_scope(tenant):
        defaults.productivity_defaults_create(tenant)
        agent = agent_in(tenant)
        now = timezone.now()
        mine = TicketFactory(tenant=tenant, status="open", assignee=agent)
        TicketFactory(tenant=tenant, status="solved", assignee=agent, solved_at=now - dt.timedelta(days=1))
        unassigned = TicketFactory(tenant=tenant, status="new")
        due_soon = TicketFactory(tenant=tenant, status="open", sla_next_due_at=now + dt.timedelta(minutes=20))
        overdue = TicketFactory(tenant=tenant, status="open", sla_next_due_at=now - dt.timedelta(minutes=5))
        TicketFactory(tenant=tenant, status="open", sla_next_due_at=now + dt.timedelta(hours=3))
        pending = TicketFactory(tenant=tenant, status="pending", assignee=agent)
        recent = TicketFactory(tenant=tenant, status="solved", assignee=agent, solved_at=now - dt.timedelta(days=6))
        TicketFactory(tenant=tenant, status="solved", assignee=agent, solved_at=now - dt.timedelta(days=8))
        views = {v.key: v for v in SavedView.objects.all()}

        def ids(key):
            return {t.pk for t in view_tickets(view=views[key], user=agent)}

        assert ids("my_open") == {mine.pk, pending.pk}
        assert unassigned.pk in ids("unassigned") and mine.pk not in ids("unassigned")
        assert [t.pk for t in view_tickets(view=views["breaching_soon"], user=agent)] == [overdue.pk, due_soon.pk]
        assert ids("pending") == {pending.pk}
        assert recent.pk in ids("recently_solved") and len(ids("recently_solved")) == 2


def test_the_default_macros_work(tenant):
    productivity.register()
    with tenant_scope(tenant):
        defaults.productivity_defaults_create(tenant)
        agent = agent_in(tenant)
        ticket = TicketFactory(tenant=tenant, status="open", language="en")
        escalate = Macro.objects.get(position=2)
        macro_apply(ticket=ticket, macro=escalate, actor=agent, via=Via.CONSOLE)
        solved = Macro.objects.get(position=1)
        applied = macro_apply(ticket=Ticket.objects.get(pk=ticket.pk), macro=solved, actor=agent, via=Via.CONSOLE)
        ticket.refresh_from_db()
        assert (ticket.priority, ticket.status, ticket.assignee) == ("urgent", "solved", agent)
        assert list(ticket.tags.values_list("name", flat=True)) == ["escalated"]
        assert f"#{ticket.number}" in applied.reply.text
