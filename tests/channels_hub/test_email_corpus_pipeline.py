"""The whole corpus (email_corpus/*.eml) through the real inbound pipeline on PostgreSQL, in
file order, into one tenant's support@acme.test channel: stored, parsed, threaded, turned
into tickets or set aside, with what expected.json says about each mail.

``thread`` in expected.json: ``"new"`` — the mail starts a ticket of its own (no id it
refers to was ever stored here, and no subject token names a ticket of its sender);
``"<file>.eml"`` — it joins that earlier file's ticket; ``null`` — it makes no ticket
(bounces, mail without a sender).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from channels_hub.models import InboundEmail, InboundSource, InboundStatus, OutboundEmail
from channels_hub.services.inbound import inbound_store
from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.mail import email_channel
from tickets.models import Message, Ticket
from tickets.services.attachments import denied_extensions

pytestmark = pytest.mark.django_db(transaction=True)

CORPUS = Path(__file__).parent / "email_corpus"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
FILES = sorted(path.name for path in CORPUS.glob("*.eml"))


def receive(channel, name: str) -> InboundEmail:
    stored = inbound_store(channel=channel, raw=(CORPUS / name).read_bytes(), source=InboundSource.HOOK)
    return InboundEmail.objects.get(pk=stored.pk)


def check(name: str, inbound: InboundEmail, tickets: dict[str, int], known_tickets: set[int]) -> list[str]:
    """What is wrong with one processed mail (empty when it is what expected.json says)."""
    expected = EXPECTED[name]
    problems: list[str] = []

    def want(condition: bool, what: str) -> None:
        if not condition:
            problems.append(f"{name}: {what} (status={inbound.status} reason={inbound.reason} "
                            f"ticket={inbound.ticket_id} error={inbound.error[:200]!r})")

    want(inbound.status != InboundStatus.FAILED and not inbound.error, "processing failed")
    want(bytes(inbound.raw) == (CORPUS / name).read_bytes(), "the raw mail is not kept as received")
    want(inbound.malformed is expected["malformed"], f"malformed flag should be {expected['malformed']}")
    if expected["bounce"] is not None:
        want(inbound.status == InboundStatus.IGNORED and inbound.reason in ("bounce", "bounce-unmatched"),
             "a DSN bounce must end ignored as a bounce")

    thread = expected["thread"]
    if thread is None:
        want(inbound.ticket_id is None or inbound.reason == "bounce", "should make no ticket")
        return problems
    want(inbound.status == InboundStatus.PROCESSED, "should be processed into a ticket")
    if thread == "new":
        want(inbound.reason == "new-ticket" and inbound.ticket_id not in known_tickets,
             "should start a new ticket")
    else:
        want(inbound.ticket_id == tickets.get(thread), f"should join the ticket of {thread}")
    if inbound.ticket_id is None or inbound.ticket_message_id is None:
        problems.append(f"{name}: no ticket message")
        return problems

    ticket = Ticket.objects.select_related("requester").get(pk=inbound.ticket_id)
    message = Message.objects.get(pk=inbound.ticket_message_id)
    want(message.ticket_id == ticket.pk and message.external_id == inbound.message_id,
         "the ticket message does not point back at the mail")
    if thread == "new":
        want(ticket.subject == (expected["subject"].strip() or "(no subject)"), f"subject {ticket.subject!r}")
        want(ticket.requester.identities.filter(value=expected["sender"].lower()).exists(),
             "the sender is not the requester")
    # People get an acknowledgement of a new request; machines never do.
    acks = OutboundEmail.objects.filter(ticket_id=ticket.pk, kind="acknowledgement").count()
    if expected["auto_submitted"]:
        want(acks == 0, "an automatic mail was acknowledged")
    elif thread == "new":
        want(acks == 1, f"{acks} acknowledgements of a person's new request")

    body = message.body_text
    if expected.get("reply_text"):
        first_line = expected["reply_text"].strip().splitlines()[0].strip()
        want(first_line in body, f"body lacks the reply's first line {first_line!r}: {body[:200]!r}")
    for snippet in expected.get("reply_text_contains", []):
        want(snippet in body, f"body lacks {snippet!r}")
    if expected["malformed"]:
        want("damaged" in body, "a malformed mail's message does not say it was damaged")

    denied = denied_extensions()
    wanted = [a["filename"] for a in expected["attachments"]]
    kept = [a for a in expected["attachments"] if os.path.splitext(a["filename"])[1].lower().lstrip(".") not in denied]
    accepted = [a["filename"] for a in kept]
    rows = list(message.attachments.order_by("id").values("filename", "inline", "content_id"))
    stored = [row["filename"] for row in rows]
    want(stored == accepted, f"attachments {stored} instead of {accepted}")
    for row, item in zip(rows, kept):
        want(row["inline"] is item["inline"] and row["content_id"] == item.get("content_id", row["content_id"]),
             f"attachment {row} instead of {item}")
    for refused in set(wanted) - set(accepted):
        want(refused in body, f"the refused attachment {refused!r} is not named in the message")
    return problems


def test_every_corpus_mail_goes_through_the_pipeline_as_expected(tenant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    channel = email_channel(tenant, address="support@acme.test")
    assert len(FILES) >= 40 and FILES == sorted(EXPECTED)

    tickets: dict[str, int] = {}  # file -> its ticket
    problems: list[str] = []
    with tenant_scope(tenant):
        for name in FILES:
            try:
                inbound = receive(channel, name)
            except Exception as exc:  # noqa: BLE001 - every mail is reported, not just the first
                problems.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            problems += check(name, inbound, tickets, set(tickets.values()))
            if inbound.ticket_id is not None and inbound.reason != "bounce":
                tickets[name] = inbound.ticket_id
        assert not problems, "\n".join(problems)

        # The corpus again (an IMAP re-poll, a retried hook): nothing is added twice.
        ticket_count, message_count = Ticket.objects.count(), Message.objects.count()
        acks = OutboundEmail.objects.filter(kind="acknowledgement").count()
        for name in FILES:
            again = receive(channel, name)
            assert again.status != InboundStatus.FAILED, name
            if name in tickets:
                assert again.status == InboundStatus.DUPLICATE and again.ticket_id == tickets[name], name
        assert (Ticket.objects.count(), Message.objects.count()) == (ticket_count, message_count)
        assert OutboundEmail.objects.filter(kind="acknowledgement").count() == acks
        assert InboundEmail.objects.count() == 2 * len(FILES)  # every copy kept
