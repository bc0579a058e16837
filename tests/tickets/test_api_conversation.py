"""Attachments (upload as multipart, download), split, links, CCs, followers, time, side conversations."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from helpdesk.tenancy.context import tenant_scope
from tests.tickets.core_helpers import light_agent, make_ticket, requester, scoped  # noqa: F401
from tickets.models import Attachment, TicketFollower, Via
from tickets.services import message_add

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(client, ticket, *files, **fields):
    data = {"body": "See attached", "public": "true", **fields}
    if files:
        data["attachments"] = list(files)
    return client.post(f"/api/v1/tickets/{ticket.pk}/messages/", data, format="multipart")


def test_multipart_upload_and_download(api_client, other_api_client, tenant, make_ticket):
    ticket = make_ticket()
    response = _upload(api_client, ticket, SimpleUploadedFile("page.html", b"<script>alert(1)</script>",
                                                              content_type="text/html"),
                       SimpleUploadedFile("invoice.pdf", b"%PDF-1.4", content_type="application/pdf"))
    assert response.status_code == 201, response.json()
    files = response.json()["attachments"]
    assert [f["filename"] for f in files] == ["page.html", "invoice.pdf"]
    download = api_client.get(files[0]["url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/octet-stream"  # HTML is never served as HTML
    assert b"".join(download.streaming_content) == b"<script>alert(1)</script>"
    assert api_client.get(files[1]["url"])["Content-Type"] == "application/pdf"
    assert other_api_client.get(files[0]["url"]).status_code == 404
    assert api_client.get("/api/v1/attachments/not-a-real-token-at-all/").status_code == 404
    anonymous = APIClient()
    assert anonymous.get(files[0]["url"]).status_code == 401


def test_upload_limits(api_client, tenant, make_ticket, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 5
    ticket = make_ticket()
    response = _upload(api_client, ticket, SimpleUploadedFile("big.txt", b"123456"))
    assert response.status_code == 400 and "attachments" in response.json()["error"]["fields"]
    response = _upload(api_client, ticket, SimpleUploadedFile("tool.exe", b"MZ"))
    assert response.status_code == 400
    with tenant_scope(tenant):
        assert not Attachment.objects.exists()
        assert ticket.messages.count() == 1


def test_multipart_validates_fields_too(api_client, tenant, make_ticket):
    response = _upload(api_client, make_ticket(), public="perhaps")
    assert response.status_code == 400 and "public" in response.json()["error"]["fields"]


def test_split_links_ccs_followers(api_client, tenant, agent, make_ticket, requester):
    ticket = make_ticket()
    second = message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, author_contact=requester,
                         body="Another question", public=True)
    response = api_client.post(f"/api/v1/tickets/{ticket.pk}/split/", {"message_id": second.pk}, format="json")
    assert response.status_code == 201, response.json()
    new_id = response.json()["id"]
    links = api_client.get(f"/api/v1/tickets/{ticket.pk}/links/").json()
    assert [(link["ticket_id"], link["kind"]) for link in links] == [(new_id, "related")]
    other = make_ticket()
    link = api_client.post(f"/api/v1/tickets/{ticket.pk}/links/", {"ticket_id": other.pk, "kind": "duplicate"},
                           format="json")
    assert link.status_code == 201
    assert api_client.delete(f"/api/v1/tickets/{ticket.pk}/links/{link.json()['id']}/").status_code == 204
    assert api_client.post(f"/api/v1/tickets/{ticket.pk}/links/", {"ticket_id": ticket.pk},
                           format="json").status_code == 400

    cc = api_client.post(f"/api/v1/tickets/{ticket.pk}/ccs/", {"email": "Boss@Example.org", "name": "Boss"},
                         format="json")
    assert cc.status_code == 201 and cc.json()["email"] == "boss@example.org"
    assert [c["name"] for c in api_client.get(f"/api/v1/tickets/{ticket.pk}/ccs/").json()] == ["Boss"]
    assert api_client.delete(f"/api/v1/tickets/{ticket.pk}/ccs/{cc.json()['id']}/").status_code == 204
    assert api_client.delete(f"/api/v1/tickets/{ticket.pk}/ccs/{cc.json()['id']}/").status_code == 404

    assert api_client.post(f"/api/v1/tickets/{ticket.pk}/followers/", {"user_id": agent.pk},
                           format="json").status_code == 204
    with tenant_scope(tenant):
        assert TicketFollower.objects.filter(ticket=ticket, user=agent).exists()
    assert api_client.delete(f"/api/v1/tickets/{ticket.pk}/followers/{agent.pk}/").status_code == 204
    assert api_client.post(f"/api/v1/tickets/{ticket.pk}/followers/", {"user_id": 999999},
                           format="json").status_code == 400


def test_time_entries_and_side_conversations(api_client, tenant, agent, make_ticket):
    ticket = make_ticket()
    client = APIClient(HTTP_HOST="acme.localhost")
    client.force_login(agent)
    assert client.post(f"/api/v1/tickets/{ticket.pk}/time-entries/", {"seconds": 600, "note": "Call"},
                       format="json").status_code == 201
    assert client.post(f"/api/v1/tickets/{ticket.pk}/time-entries/", {"seconds": 0},
                       format="json").status_code == 400
    entries = api_client.get(f"/api/v1/tickets/{ticket.pk}/time-entries/").json()["results"]
    assert [(e["seconds"], e["user_id"]) for e in entries] == [(600, agent.pk)]
    assert api_client.get(f"/api/v1/tickets/{ticket.pk}/").json()["handle_seconds"] == 600

    side = client.post(f"/api/v1/tickets/{ticket.pk}/side-conversations/", {
        "kind": "email", "subject": "Parcel 1001", "body": "Where is it?", "participants": ["ops@courier.example"],
    }, format="json")
    assert side.status_code == 201, side.json()
    side_id = side.json()["id"]
    reply = client.post(f"/api/v1/tickets/{ticket.pk}/side-conversations/{side_id}/messages/",
                        {"body": "Any news?"}, format="json")
    assert reply.status_code == 201 and len(reply.json()["messages"]) == 2
    assert client.post(f"/api/v1/tickets/{ticket.pk}/side-conversations/{side_id}/messages/",
                       {"body": "x", "extra": 1}, format="json").status_code == 400
    listed = api_client.get(f"/api/v1/tickets/{ticket.pk}/side-conversations/").json()
    assert [s["subject"] for s in listed] == ["Parcel 1001"]
    # Side messages are not in the conversation.
    assert len(api_client.get(f"/api/v1/tickets/{ticket.pk}/messages/").json()["results"]) == 1


def test_a_light_agent_writes_notes_through_the_session_api_but_nothing_else(tenant, light_agent, make_ticket):
    from django.test import Client

    ticket = make_ticket()
    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=False)
    client.force_login(light_agent)
    url = f"/api/v1/tickets/{ticket.pk}/messages/"
    note = client.post(url, {"body": "Checked with the warehouse.", "public": False}, content_type="application/json")
    assert note.status_code == 201, note.content
    reply = client.post(url, {"body": "Hello customer", "public": True}, content_type="application/json")
    assert reply.status_code == 403
    change = client.patch(f"/api/v1/tickets/{ticket.pk}/", {"priority": "urgent"}, content_type="application/json")
    assert change.status_code == 403
    with scoped(tenant):
        ticket.refresh_from_db()
        assert ticket.priority != "urgent"
        assert ticket.messages.filter(kind="public", body_text__contains="Hello customer").count() == 0
