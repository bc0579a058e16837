"""The HTTP side of webhooks without the database: signing, the SSRF guard, one POST."""
from __future__ import annotations

import ipaddress
import socket

import pytest

from helpdesk.events import webhooks
from helpdesk.events.webhooks import Outcome, TargetRefused
from tests.core.events.conftest import Reply


def test_signature_is_hex_hmac_sha256_of_the_raw_body():
    import hashlib
    import hmac

    body = b'{"id":1}'
    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert webhooks.sign("secret", body) == f"sha256={expected}"
    assert webhooks.verify("secret", body, f"sha256={expected}")
    assert not webhooks.verify("secret", body + b" ", f"sha256={expected}")
    assert not webhooks.verify("other", body, f"sha256={expected}")


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "224.0.0.1", "240.0.0.1", "255.255.255.255", "100.64.0.1", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1",
])
def test_non_public_addresses_are_refused(address):
    assert webhooks.address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert webhooks.address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", [
    "ftp://93.184.215.14/x", "file:///etc/passwd", "gopher://93.184.215.14/", "http://user:pw@93.184.215.14/",
    "http:///nohost", "http://93.184.215.14:99999/",
])
def test_only_plain_http_and_https_urls_are_targets(url):
    with pytest.raises(TargetRefused):
        webhooks.check_target(url, allow_private=False)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8000/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "https://0.0.0.0/",
])
def test_private_targets_are_refused_unless_allowed(url):
    with pytest.raises(TargetRefused):
        webhooks.check_target(url, allow_private=False)
    webhooks.check_target(url, allow_private=True)


def test_a_name_with_any_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: [ipaddress.ip_address("93.184.215.14"),
                                                                 ipaddress.ip_address("10.0.0.1")])
    with pytest.raises(TargetRefused, match="private"):
        webhooks.check_target("https://hooks.example.com/x", allow_private=False)


def test_delivery_connects_to_the_address_it_checked_not_a_fresh_dns_answer(monkeypatch):
    """DNS rebinding: the name resolves once; the TCP connection goes to that checked address."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    lookups = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)]

    connected = []

    def fake_create_connection(address, timeout=None, source_address=None):
        connected.append(address)
        raise ConnectionRefusedError("test")

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(webhooks.socket, "create_connection", fake_create_connection)
    result = webhooks.post(url="http://hooks.example.com/x", body=b"{}", headers={}, allow_private=False)
    assert lookups == ["hooks.example.com"]
    assert connected == [("93.184.215.14", 80)]
    assert result.outcome is Outcome.RETRY and "ConnectionRefusedError" in result.error


def test_refused_target_at_delivery_time_fails_without_a_request(receiver):
    result = webhooks.post(url=receiver.url(), body=b"{}", headers={}, allow_private=False)
    assert result.outcome is Outcome.FAILED
    assert "loopback" in result.error
    assert receiver.requests == []


def test_post_sends_the_body_and_headers_to_the_pinned_host(receiver, monkeypatch):
    real = socket.getaddrinfo
    monkeypatch.setattr(webhooks.socket, "getaddrinfo",
                        lambda host, port, *a, **k: real("127.0.0.1", port, *a, **k))
    result = webhooks.post(url=f"http://hooks.example.com:{receiver.port}/in?x=1", body=b'{"a":1}',
                           headers={"X-Test": "1"}, allow_private=True)
    assert result.outcome is Outcome.SUCCEEDED and result.response_status == 200
    (request,) = receiver.requests
    assert request.path == "/in?x=1"
    assert request.body == b'{"a":1}'
    assert request.headers["Host"] == f"hooks.example.com:{receiver.port}"
    assert request.headers["X-Test"] == "1"


@pytest.mark.parametrize("status,outcome", [
    (200, Outcome.SUCCEEDED), (204, Outcome.SUCCEEDED), (500, Outcome.RETRY), (503, Outcome.RETRY),
    (408, Outcome.RETRY), (429, Outcome.RETRY), (400, Outcome.FAILED), (404, Outcome.FAILED),
    (410, Outcome.FAILED),
])
def test_status_codes_decide_what_happens_next(receiver, status, outcome):
    receiver.reply(status)
    result = webhooks.post(url=receiver.url(), body=b"{}", headers={}, allow_private=True)
    assert result.outcome is outcome
    assert result.response_status == status


def test_redirects_are_not_followed(receiver):
    receiver.reply(Reply(status=302, headers={"Location": receiver.url("/elsewhere")}))
    result = webhooks.post(url=receiver.url(), body=b"{}", headers={}, allow_private=True)
    assert result.outcome is Outcome.FAILED and result.response_status == 302
    assert "Redirect" in result.error
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_a_slow_receiver_times_out_and_is_retried(receiver):
    receiver.reply(Reply(status=200, delay=1.0))
    result = webhooks.post(url=receiver.url(), body=b"{}", headers={}, timeout=0.2, allow_private=True)
    assert result.outcome is Outcome.RETRY
    assert "Timed out" in result.error


def test_a_closed_port_is_a_connection_error_and_retried():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = webhooks.post(url=f"http://127.0.0.1:{port}/", body=b"{}", headers={}, allow_private=True)
    assert result.outcome is Outcome.RETRY and result.response_status is None and result.error


def test_the_response_body_kept_is_truncated(receiver):
    receiver.reply(Reply(status=500, body=b"x" * 100_000, headers={"Retry-After": "120"}))
    result = webhooks.post(url=receiver.url(), body=b"{}", headers={}, allow_private=True)
    assert len(result.response_body) == webhooks.RESPONSE_KEEP_CHARS
    assert result.retry_after == 120
