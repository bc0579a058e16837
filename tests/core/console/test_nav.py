"""The side-navigation registry."""
from __future__ import annotations

import pytest

from helpdesk.console import nav
from helpdesk.tenancy.roles import Cap, Role


@pytest.fixture
def scratch_entries():
    keys = []

    def add(**kwargs):
        keys.append(kwargs["key"])
        return nav.register(**kwargs)

    yield add
    for key in keys:
        nav.unregister(key)


def test_home_is_registered_by_the_console_app():
    assert any(e.key == "home" and e.url_name == "console:home" for e in nav.all_entries())


def test_administration_is_offered_to_admins_only():
    assert "administration" in [e.key for e in nav.entries_for(Role.ADMIN)]
    assert "administration" not in [e.key for e in nav.entries_for(Role.AGENT)]


def test_entries_are_filtered_by_capability_and_ordered(scratch_entries):
    scratch_entries(key="t-reports", label="Reports", url_name="console:profile", capability=Cap.REPORTS_VIEW,
                    icon="chart", order=50)
    scratch_entries(key="t-inbox", label="Inbox", url_name="console:profile", capability=Cap.TICKETS_VIEW,
                    icon="inbox", order=10)
    agent_keys = [e.key for e in nav.entries_for(Role.AGENT)]
    assert "t-inbox" in agent_keys and "t-reports" not in agent_keys
    analyst_keys = [e.key for e in nav.entries_for(Role.ANALYST)]
    assert "t-reports" in analyst_keys and "t-inbox" not in analyst_keys
    admin_keys = [e.key for e in nav.entries_for(Role.ADMIN)]
    assert admin_keys.index("home") < admin_keys.index("t-inbox") < admin_keys.index("t-reports")
    assert nav.entries_for(None) == []
    assert nav.entries_for("no-such-role") == []


def test_unknown_capability_or_icon_is_refused():
    with pytest.raises(ValueError):
        nav.register(key="x", label="X", url_name="console:home", capability="made.up")
    with pytest.raises(ValueError):
        nav.register(key="x", label="X", url_name="console:home", capability=Cap.KB_VIEW, icon="unicorn")


def test_system_check_reports_links_to_missing_pages(scratch_entries):
    assert nav.check_nav_urls() == []
    scratch_entries(key="t-broken", label="Broken", url_name="nowhere:at-all", capability=Cap.KB_VIEW)
    errors = nav.check_nav_urls()
    assert [e.id for e in errors] == ["console.E001"]
