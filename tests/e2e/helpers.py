"""What the browser tests share: the Acme desk they start from and a signed-in browser context."""
from __future__ import annotations

import threading

from django.db import connection
from django.test import Client

from helpdesk.tenancy.roles import Role
from tests.factories import ContactFactory, ContactIdentityFactory, TenantFactory, agent_in
from tests.tickets.factories import SavedViewFactory


def acme_desk() -> dict:
    """Acme with two agents (Ada Lovelace, Bob Marley), a customer (Grace Hopper) and a shared
    "Unsolved tickets" view. Made with factories: services would push events from the test's
    thread, which Playwright's loop occupies."""
    acme = TenantFactory(slug="acme", name="Acme Ltd")
    ada = agent_in(acme, role=Role.AGENT, email="ada@acme.test")
    bob = agent_in(acme, role=Role.AGENT, email="bob@acme.test")
    for person, name in ((ada, "Ada Lovelace"), (bob, "Bob Marley")):
        person.full_name = name
        person.save()
    grace = ContactFactory(tenant=acme, name="Grace Hopper")
    ContactIdentityFactory(tenant=acme, contact=grace, value="grace@customer.example")
    unsolved = SavedViewFactory(tenant=acme, name="Unsolved tickets", position=1,
                                conditions={"all": [{"field": "status", "operator": "in", "value": ["new", "open"]}]})
    return {"tenant": acme, "ada": ada, "bob": bob, "grace": grace, "view": unsolved}


def signed_in(browser, user, base: str):
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(user)
    context = browser.new_context(locale="en-US", timezone_id="Europe/Istanbul")
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    return context


def elsewhere(work, *, seconds: float = 60):
    """Run a service call as a colleague (or the mail pipeline) would, on another thread, and
    return its result: services push events with ``async_to_sync``, which cannot run on the
    thread Playwright's loop occupies."""
    result: list = []
    failure: list[BaseException] = []

    def run():
        try:
            result.append(work())
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=seconds)
    assert not thread.is_alive(), "the service call did not finish"
    if failure:
        raise failure[0]
    return result[0]
