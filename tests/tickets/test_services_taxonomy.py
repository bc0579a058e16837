"""Tags, custom-field definitions, contact reasons, teams; attachment checks."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.people.models import TeamMember
from helpdesk.tenancy.context import tenant_scope
from tests.tickets.core_helpers import light_agent, make_ticket, requester  # noqa: F401
from tickets.models import CustomFieldKind, Tag, TicketTag, Via
from tickets.services import (
    contact_reason_create,
    contact_reason_delete,
    contact_reason_update,
    custom_field_create,
    custom_field_update,
    normalize_tag,
    tag_create,
    tag_delete,
    tag_rename,
    team_create,
    team_delete,
    team_update,
    ticket_update,
)
from tickets.services.attachments import check_upload, clean_filename, content_type_for, download_content_type

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw,tag", [("VIP customer", "vip-customer"), ("  refund ", "refund"),
                                     ("İADE", "iade"), ("a,b", "a-b")])
def test_tags_are_normalised(raw, tag):
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "   ", "x" * 81, 12, None, "bad\x07tag"])
def test_bad_tags_are_refused(raw):
    with pytest.raises(ValidationError):
        normalize_tag(raw)


def test_tag_crud(tenant, owner, agent, make_ticket):
    tag = tag_create(tenant=tenant, name="Late delivery", actor=agent)
    assert tag.name == "late-delivery"
    with pytest.raises(ValidationError):
        tag_create(tenant=tenant, name="late delivery", actor=agent)
    ticket = make_ticket(tags=["late-delivery"])
    with pytest.raises(PermissionDenied):
        tag_rename(tag=tag, name="late", actor=agent)
    tag_rename(tag=tag, name="late", actor=owner)
    with tenant_scope(tenant):
        assert list(ticket.tags.values_list("name", flat=True)) == ["late"]
    tag_delete(tag=tag, actor=owner)
    with tenant_scope(tenant):
        assert not Tag.objects.exists() and not TicketTag.objects.exists()


def test_custom_field_definitions(tenant, owner, agent):
    field = custom_field_create(tenant=tenant, actor=owner, key="reason", label="Reason", kind="dropdown",
                                options=["refund", {"value": "exchange", "label": "Exchange",
                                                    "labels": {"tr": "Değişim"}}])
    assert field.options[0] == {"value": "refund", "label": "refund", "labels": {}}
    with pytest.raises(ValidationError):
        custom_field_create(tenant=tenant, actor=owner, key="reason", label="Again", kind="text")
    for bad in [dict(key="Bad Key", label="x", kind="text"), dict(key="k", label="x", kind="colour"),
                dict(key="k", label="x", kind="dropdown", options=[]),
                dict(key="k", label="x", kind="text", options=["a"]),
                dict(key="k", label="x", kind="multi_select", options=["a", "a"]),
                dict(key="k", label="  ", kind="text")]:
        with pytest.raises(ValidationError):
            custom_field_create(tenant=tenant, actor=owner, **bad)
    with pytest.raises(PermissionDenied):
        custom_field_create(tenant=tenant, actor=agent, key="k2", label="x", kind=CustomFieldKind.TEXT)
    field = custom_field_update(field=field, actor=owner, required=True, label="Why")
    assert field.required and field.label == "Why"
    with pytest.raises(ValidationError):
        custom_field_update(field=field, actor=owner, kind="text")


def test_inactive_fields_cannot_be_set(tenant, owner, agent, make_ticket):
    field = custom_field_create(tenant=tenant, actor=owner, key="legacy", label="Legacy", kind="text")
    custom_field_update(field=field, actor=owner, is_active=False)
    with pytest.raises(ValidationError):
        ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, custom_fields={"legacy": "x"})


def test_contact_reasons_have_two_levels(tenant, owner, agent, make_ticket):
    delivery = contact_reason_create(tenant=tenant, name="Delivery", actor=owner)
    late = contact_reason_create(tenant=tenant, name="Late", parent=delivery, actor=owner)
    with pytest.raises(ValidationError):
        contact_reason_create(tenant=tenant, name="Very late", parent=late, actor=owner)
    with pytest.raises(ValidationError):
        contact_reason_create(tenant=tenant, name="Late", parent=delivery, actor=owner)
    with pytest.raises(ValidationError):
        contact_reason_update(reason=delivery, parent=late, actor=owner)
    ticket = ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, contact_reason=late)
    assert ticket.contact_reason_id == late.pk
    contact_reason_update(reason=late, is_active=False, actor=owner)
    with pytest.raises(ValidationError):
        ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, contact_reason=late)
    contact_reason_delete(reason=delivery, actor=owner)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.contact_reason_id is None


def test_teams(tenant, owner, agent, light_agent, other_agent):
    team = team_create(tenant=tenant, actor=owner, name="Returns", member_ids=[agent.pk])
    with pytest.raises(ValidationError):
        team_create(tenant=tenant, actor=owner, name="Returns")
    with pytest.raises(ValidationError):
        team_update(team=team, actor=owner, member_ids=[other_agent.pk])
    team_update(team=team, actor=owner, name="Returns & refunds", member_ids=[light_agent.pk, owner.pk])
    with tenant_scope(tenant):
        assert sorted(TeamMember.objects.filter(team=team).values_list("user_id", flat=True)) == sorted(
            [light_agent.pk, owner.pk])
    with pytest.raises(PermissionDenied):
        team_delete(team=team, actor=agent)
    team_delete(team=team, actor=owner)


def test_attachment_checks(settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError):
        check_upload(SimpleUploadedFile("big.pdf", b"x" * 11))
    with pytest.raises(ValidationError):
        check_upload(SimpleUploadedFile("empty.pdf", b""))
    with pytest.raises(ValidationError):
        check_upload(SimpleUploadedFile("run.EXE", b"MZ"))
    assert check_upload(SimpleUploadedFile("../../etc/passwd.txt", b"root")) == ("passwd.txt", "text/plain", 4)
    settings.TICKET_ATTACHMENT_ALLOWED_TYPES = ["image/*", "application/pdf"]
    assert check_upload(SimpleUploadedFile("a.png", b"png"))[1] == "image/png"
    with pytest.raises(ValidationError):
        check_upload(SimpleUploadedFile("notes.txt", b"text"))


def test_names_and_types():
    assert clean_filename('re:port<1>.pdf') == "report1.pdf"
    assert clean_filename("") == "attachment"
    assert len(clean_filename("x" * 300 + ".pdf")) == 150
    # The extension decides, not the client's claim.
    assert content_type_for("page.html", "application/pdf") == "text/html"
    assert content_type_for("blob", "application/x-custom") == "application/x-custom"
    assert content_type_for("blob", "not a type") == "application/octet-stream"

    class A:
        content_type = "text/html"

    assert download_content_type(A()) == "application/octet-stream"
    A.content_type = "image/svg+xml"
    assert download_content_type(A()) == "application/octet-stream"
    A.content_type = "application/pdf"
    assert download_content_type(A()) == "application/pdf"
