"""channels_hub.email.imap against a real IMAP server (a private Dovecot, see imap_server.py):
unseen mail is stored then marked, a failing store or a dead server loses nothing, limits
leave the rest for the next poll, and raw bytes arrive exactly as delivered. No database."""
from __future__ import annotations

import logging
import os
import time
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from channels_hub.email import parse_email
from channels_hub.email.imap import (
    ImapError,
    encode_mailbox,
    imap_check,
    imap_fetch,
    parse_fetch_body,
)
from tests.channels_hub.imap_server import TURKISH_PASSWORD, TURKISH_USERNAME, silent_port


def make_message(subject: str = "Yardım", body: str = "Merhaba", *, number: int = 0) -> bytes:
    message = EmailMessage(policy=SMTP)  # CRLF line ends: the wire format, as IMAP returns it
    message["From"] = "Ayşe Yılmaz <ayse@example.com>"
    message["To"] = "support@example.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<msg-{number}-{time.monotonic_ns()}@example.com>"
    message.set_content(body)
    return message.as_bytes()


class Collector:
    """A ``store`` that keeps what it is given and can be told to fail."""

    def __init__(self, fail_on: set[int] | None = None, fail_always: bool = False) -> None:
        self.raws: list[bytes] = []
        self.calls = 0
        self.fail_on = fail_on or set()
        self.fail_always = fail_always

    def __call__(self, raw: bytes) -> None:
        self.calls += 1
        if self.fail_always or self.calls in self.fail_on:
            raise RuntimeError("database is down")
        self.raws.append(raw)


# ---------------------------------------------------------------- the happy path


def test_fetches_unseen_oldest_first_and_marks_them_seen(imap_server):
    first, second = make_message("Bir", number=1), make_message("İki", number=2)
    imap_server.deliver(first)
    imap_server.deliver(make_message("already read", number=3), flags="\\Seen")
    imap_server.deliver(second)
    store = Collector()

    result = imap_fetch(**imap_server.settings(), store=store)

    assert store.raws == [first, second]
    assert (result.fetched, result.stored, result.failed, result.remaining) == (2, 2, 0, 0)
    assert not result.more_waiting
    assert all(message.seen for message in imap_server.messages())
    assert len(imap_server.messages()) == 3  # "seen" mode keeps the mail

    again = Collector()
    assert imap_fetch(**imap_server.settings(), store=again).fetched == 0
    assert again.raws == []


def test_fetching_does_not_mark_seen_before_store_returns(imap_server):
    imap_server.deliver(make_message())
    flags_during_store = []

    def store(raw: bytes) -> None:
        flags_during_store.append(imap_server.messages()[0].seen)

    imap_fetch(**imap_server.settings(), store=store)
    assert flags_during_store == [False]  # BODY.PEEK[]: reading alone sets nothing
    assert imap_server.messages()[0].seen


def test_empty_mailbox(imap_server):
    result = imap_fetch(**imap_server.settings(), store=Collector())
    assert (result.fetched, result.stored, result.remaining) == (0, 0, 0)


# ---------------------------------------------------------------- nothing is lost


def test_store_raising_leaves_the_message_unseen_for_the_next_poll(imap_server, caplog):
    raws = [make_message(f"m{number}", number=number) for number in range(3)]
    for raw in raws:
        imap_server.deliver(raw)
    store = Collector(fail_on={2})  # the second message's store fails

    with caplog.at_level(logging.ERROR, logger="channels_hub.email.imap"):
        result = imap_fetch(**imap_server.settings(), store=store)

    assert (result.fetched, result.stored, result.failed) == (3, 2, 1)
    assert store.raws == [raws[0], raws[2]]
    assert [message.seen for message in imap_server.messages()] == [True, False, True]
    assert result.failed_uids == [imap_server.messages()[1].uid]
    assert "stays unseen" in caplog.text
    assert imap_server.password not in caplog.text

    retry = Collector()
    result = imap_fetch(**imap_server.settings(), store=retry)
    assert retry.raws == [raws[1]]
    assert (result.stored, result.failed) == (1, 0)
    assert all(message.seen for message in imap_server.messages())


def test_store_always_failing_changes_nothing(imap_server):
    imap_server.deliver(make_message(number=1))
    imap_server.deliver(make_message(number=2))
    result = imap_fetch(**imap_server.settings(), store=Collector(fail_always=True))
    assert (result.fetched, result.stored, result.failed) == (2, 0, 2)
    assert not any(message.seen for message in imap_server.messages())


def test_wrong_password_raises_and_changes_nothing(imap_server):
    imap_server.deliver(make_message())
    wrong = "hunter2-wrong"
    store = Collector()

    with pytest.raises(ImapError) as caught:
        imap_fetch(**imap_server.settings(password=wrong), store=store)

    assert caught.value.code == "auth_failed"
    assert str(caught.value) == "authentication failed"
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)
    assert caught.value.result is not None and caught.value.result.stored == 0
    assert store.calls == 0
    assert not imap_server.messages()[0].seen


def test_server_down_raises_connection_refused_and_a_later_poll_gets_everything(imap_server):
    raws = [make_message(number=number) for number in range(2)]
    for raw in raws:
        imap_server.deliver(raw)
    store = Collector()

    with imap_server.down():
        with pytest.raises(ImapError) as caught:
            imap_fetch(**imap_server.settings(), store=store)
        assert caught.value.code == "connection_refused"
        assert str(caught.value) == "connection refused"

    result = imap_fetch(**imap_server.settings(), store=store)
    assert result.stored == 2
    assert store.raws == raws


def test_connection_lost_mid_poll_loses_nothing(imap_server):
    """The server dies while the first message is being stored: the poll fails, the stored
    message may come again (at-least-once; the pipeline drops duplicates by Message-ID),
    and every message arrives after the server is back."""
    raws = [make_message(number=number) for number in range(3)]
    for raw in raws:
        imap_server.deliver(raw)
    received: list[bytes] = []

    def store_then_crash(raw: bytes) -> None:
        received.append(raw)
        if len(received) == 1:
            imap_server.stop()

    with pytest.raises(ImapError) as caught:
        imap_fetch(**imap_server.settings(), store=store_then_crash)
    assert caught.value.code in ("connection_lost", "network")
    assert caught.value.result.stored == 1

    imap_server.start()
    result = imap_fetch(**imap_server.settings(), store=received.append)
    assert result.remaining == 0
    assert set(received) == set(raws)
    assert len(received) <= len(raws) + 1  # at most the one in flight is repeated
    assert all(message.seen for message in imap_server.messages())


def test_timeout_on_a_silent_server():
    with silent_port() as port:
        started = time.monotonic()
        with pytest.raises(ImapError) as caught:
            imap_fetch(host="127.0.0.1", port=port, security="none", username="u", password="p",
                       store=Collector(), timeout=0.5)
    assert caught.value.code == "timeout"
    assert str(caught.value) == "timed out"
    assert time.monotonic() - started < 5


def test_unknown_host():
    with pytest.raises(ImapError) as caught:
        imap_check(host="imap.does-not-exist.invalid", port=993, username="u", password="p", timeout=5)
    assert caught.value.code in ("host_not_found", "network", "timeout")


# ---------------------------------------------------------------- limits and modes


def test_max_messages_leaves_the_rest_for_the_next_poll(imap_server):
    raws = [make_message(f"m{number}", number=number) for number in range(5)]
    for raw in raws:
        imap_server.deliver(raw)
    store = Collector()

    first = imap_fetch(**imap_server.settings(), store=store, max_messages=2)
    assert (first.stored, first.remaining, first.more_waiting) == (2, 3, True)
    second = imap_fetch(**imap_server.settings(), store=store, max_messages=2)
    assert (second.stored, second.remaining) == (2, 1)
    third = imap_fetch(**imap_server.settings(), store=store, max_messages=2)
    assert (third.stored, third.remaining, third.more_waiting) == (1, 0, False)
    assert store.raws == raws  # in order, each once


def test_delete_mode_removes_only_what_was_stored(imap_server):
    kept_seen = make_message("read by a person", number=1)
    imap_server.deliver(kept_seen, flags="\\Seen")
    taken, failing = make_message("take me", number=2), make_message("fails", number=3)
    imap_server.deliver(taken)
    imap_server.deliver(failing)
    store = Collector(fail_on={2})

    result = imap_fetch(**imap_server.settings(), store=store, after_store="delete")

    assert (result.stored, result.failed) == (1, 1)
    remaining = imap_server.messages()
    assert [message.raw for message in remaining] == [kept_seen, failing]
    assert [message.seen for message in remaining] == [True, False]

    result = imap_fetch(**imap_server.settings(), store=store, after_store="delete")
    assert result.stored == 1
    assert [message.raw for message in imap_server.messages()] == [kept_seen]
    assert store.raws == [taken, failing]


def test_a_message_flagged_deleted_by_someone_else_is_not_taken_or_expunged(imap_server):
    imap_server.deliver(make_message(number=1), flags="\\Deleted")
    store = Collector()
    result = imap_fetch(**imap_server.settings(), store=store, after_store="delete")
    assert result.fetched == 0
    assert len(imap_server.messages()) == 1


def test_other_folder_with_a_turkish_name(imap_server):
    folder = "Destek/Çağrılar"
    raw = make_message(number=1)
    imap_server.deliver(raw, folder=encode_mailbox(folder))
    store = Collector()
    assert imap_fetch(**imap_server.settings(), folder=folder, store=store).stored == 1
    assert store.raws == [raw]


def test_missing_folder(imap_server):
    with pytest.raises(ImapError) as caught:
        imap_fetch(**imap_server.settings(), folder="Nope", store=Collector())
    assert caught.value.code == "folder_not_found"


def test_bad_settings_are_refused_before_connecting():
    with pytest.raises(ImapError) as caught:
        imap_fetch(host="127.0.0.1", port=1, security="tls-ish", username="u", password="p", store=Collector())
    assert caught.value.code == "bad_settings"
    with pytest.raises(ImapError):
        imap_fetch(host="127.0.0.1", port=1, username="u", password="p", store=Collector(), after_store="move")


# ---------------------------------------------------------------- bytes in, same bytes out


def test_large_message_round_trips_byte_identical(imap_server):
    message = EmailMessage(policy=SMTP)
    message["From"] = "ayse@example.com"
    message["To"] = "support@example.test"
    message["Subject"] = "Büyük ek"
    message["Message-ID"] = "<big@example.com>"
    message.set_content("Ekte rapor var.")
    message.add_attachment(os.urandom(5 * 1024 * 1024), maintype="application", subtype="octet-stream",
                           filename="rapor.bin")
    raw = message.as_bytes()
    assert len(raw) > 6_000_000
    imap_server.deliver(raw)
    store = Collector()

    imap_fetch(**imap_server.settings(), store=store)

    assert store.raws == [raw]
    parsed = parse_email(store.raws[0])
    assert parsed.attachments[0].filename == "rapor.bin"
    assert parsed.attachments[0].content == message.get_payload()[1].get_content()


def test_turkish_subject_raw_bytes_are_preserved(imap_server):
    # An 8-bit UTF-8 header (as many mailers send), an encoded-word one and a windows-1254 body.
    raw = (
        "From: =?iso-8859-9?Q?=DE=FCkr=FC_=D6z?= <sukru@example.com>\r\n"
        "To: support@example.test\r\n"
        "Subject: Şikâyet: ödeme çalışmıyor, ĞÜŞİÖÇ ğüşıöç\r\n"
        "Message-ID: <tr-1@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=windows-1254\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
    ).encode("utf-8") + "Sipariş numaram 42, ödeme sayfası açılmıyor.\r\n".encode("cp1254")
    imap_server.deliver(raw)
    store = Collector()

    imap_fetch(**imap_server.settings(), store=store)

    assert store.raws == [raw]
    parsed = parse_email(store.raws[0])
    assert parsed.subject == "Şikâyet: ödeme çalışmıyor, ĞÜŞİÖÇ ğüşıöç"
    assert "Sipariş numaram 42" in parsed.text


# ---------------------------------------------------------------- TLS and the check


def test_imaps_with_a_verified_certificate(imap_server):
    raw = make_message(number=1)
    imap_server.deliver(raw)
    store = Collector()
    result = imap_fetch(**imap_server.settings(security="ssl", port=imap_server.ssl_port,
                                               ssl_context=imap_server.ssl_context()), store=store)
    assert result.stored == 1 and store.raws == [raw]


def test_starttls(imap_server):
    check = imap_check(**imap_server.settings(security="starttls", ssl_context=imap_server.ssl_context()))
    assert check.messages == 0


def test_untrusted_certificate_is_refused(imap_server):
    with pytest.raises(ImapError) as caught:
        imap_check(**imap_server.settings(security="ssl", port=imap_server.ssl_port))  # system CAs only
    assert caught.value.code == "tls_certificate"


def test_check_reports_counts_and_changes_nothing(imap_server):
    imap_server.deliver(make_message(number=1))
    imap_server.deliver(make_message(number=2), flags="\\Seen")
    check = imap_check(**imap_server.settings())
    assert (check.messages, check.unseen) == (2, 1)
    assert "IMAP4REV1" in check.capabilities
    assert [message.seen for message in imap_server.messages()] == [False, True]


def test_check_with_wrong_password(imap_server):
    with pytest.raises(ImapError) as caught:
        imap_check(**imap_server.settings(password="nope"))
    assert caught.value.code == "auth_failed"


def test_non_ascii_password_logs_in(imap_server):
    check = imap_check(**imap_server.settings(username=TURKISH_USERNAME, password=TURKISH_PASSWORD))
    assert check.messages == 0
    with pytest.raises(ImapError) as caught:
        imap_check(**imap_server.settings(username=TURKISH_USERNAME, password="gizli-sifre-GUI"))
    assert caught.value.code == "auth_failed"


# ---------------------------------------------------------------- odd server responses


@pytest.mark.parametrize(
    "data",
    [
        [(b"1 (UID 7 BODY[] {5}", b"hello"), b")"],
        [(b"1 (BODY[] {5}", b"hello"), b" UID 7)"],  # UID after the literal
        [(b"1 (BODY[] {5}", b"hello"), b")"],  # no UID at all (non-conforming server)
        [b"2 (FLAGS (\\Seen) UID 8)", (b"1 (UID 7 BODY[] {5}", b"hello"), b")"],  # unsolicited
        [(b"3 (UID 9 BODY[] {3}", b"bad"), b")", (b"1 (UID 7 BODY[] {5}", b"hello"), b")"],
        [b'1 (UID 7 BODY[] "hello")'],  # quoted string instead of a literal
        [(b"1 (UID 7 BODY[]<0> {5}", b"hello"), b")"],
        [(b"1 (UID 7 FLAGS (\\Recent) BODY[] {5+}", b"hello"), b")"],
    ],
)
def test_parse_fetch_body_copes_with_odd_shapes(data):
    assert parse_fetch_body(data, 7) == b"hello"


@pytest.mark.parametrize(
    "data",
    [[None], [], [b"1 (UID 7 BODY[] NIL)"], [b"1 (UID 7 FLAGS (\\Seen))"],
     [(b"3 (UID 9 BODY[] {3}", b"bad"), b")"]],
)
def test_parse_fetch_body_without_a_body_for_us(data):
    assert parse_fetch_body(data, 7) is None


def test_encode_mailbox_modified_utf7():
    assert encode_mailbox("INBOX") == "INBOX"
    assert encode_mailbox("Tom & Jerry") == "Tom &- Jerry"
    assert encode_mailbox("~peter/mail/日本語/台北") == "~peter/mail/&ZeVnLIqe-/&U,BTFw-"
