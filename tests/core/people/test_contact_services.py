"""Contacts, identities and organizations: resolving inbound identities, CRUD rules, merging."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from helpdesk.audit.models import AuditEntry
from helpdesk.events.models import Event
from helpdesk.people import services
from helpdesk.people.models import Contact, ContactIdentity
from helpdesk.tenancy.context import dangerously_unscoped
from tests.factories import ContactFactory, ContactIdentityFactory, OrganizationFactory
from tests.tickets.factories import MessageFactory, TicketCCFactory, TicketFactory
from tickets.models import Message, MessageKind, Ticket, TicketCC
from tickets.services import contact_for_email

pytestmark = pytest.mark.django_db


def identities_of(contact) -> set[tuple[str, str]]:
    return set(ContactIdentity.objects.filter(contact=contact).values_list("kind", "value"))


# --- resolving -----------------------------------------------------------------------------------


def test_resolve_finds_by_normalised_identity_or_creates_one(in_tenant):
    tenant = in_tenant
    created = services.contact_resolve(tenant=tenant, kind="phone", value="+90 532 123 45 67", name="Ayşe")
    assert created.name == "Ayşe"
    assert identities_of(created) == {("phone", "+905321234567")}
    assert services.contact_resolve(tenant=tenant, kind="phone", value="+905321234567") == created
    handle = services.contact_resolve(tenant=tenant, kind="social", value="@Ayse_TR", provider="Twitter")
    assert ContactIdentity.objects.get(contact=handle).provider == "twitter"
    assert services.contact_resolve(tenant=tenant, kind="social", value="ayse_tr", provider="twitter") == handle
    # The same handle on another platform is another identity.
    assert services.contact_resolve(tenant=tenant, kind="social", value="ayse_tr", provider="instagram") != handle
    assert AuditEntry.objects.filter(action="contact.created", object_id=str(created.pk)).exists()
    assert Event.objects.filter(type="contact.created", subject_id=str(created.pk)).exists()


def test_resolve_hands_back_the_identity_it_reached(in_tenant):
    made = services.contact_resolve(tenant=in_tenant, kind="email", value="Deniz@Example.com")
    assert made.resolved_identity.pk == ContactIdentity.objects.get(contact=made).pk
    assert made.resolved_identity.value == "deniz@example.com" and made.resolved_identity.undeliverable_at is None
    ContactIdentity.objects.filter(pk=made.resolved_identity.pk).update(undeliverable_at=timezone.now())
    again = services.contact_resolve(tenant=in_tenant, kind="email", value="deniz@example.com")
    assert again == made and again.resolved_identity.undeliverable_at is not None


def test_an_identity_taken_meanwhile_gives_the_winners_contact_and_leaves_no_stray_contact(in_tenant, monkeypatch):
    """Two copies of a first mail from a new address at once: the second one's lookup found
    nothing, then the first one's identity went in. Its insert gives way (no error, no
    savepoint needed) and it uses the first one's contact."""
    winner = services.contact_resolve(tenant=in_tenant, kind="email", value="twice@example.com", name="First")
    monkeypatch.setattr(services, "_existing_identity", lambda **_kw: None)  # the lookup ran before the insert
    with transaction.atomic():
        loser = services.contact_resolve(tenant=in_tenant, kind="email", value="twice@example.com", name="Second")
        assert loser == winner and loser.resolved_identity.contact_id == winner.pk
    assert list(Contact.objects.values_list("name", flat=True)) == ["First"]
    assert ContactIdentity.objects.count() == 1
    assert AuditEntry.objects.filter(action="contact.created").count() == 1
    assert Event.objects.filter(type="contact.created").count() == 1


def test_resolve_skips_the_organization_lookup_when_the_caller_knows_none_assigns(in_tenant,
                                                                                 django_assert_num_queries):
    services.organization_create(tenant=in_tenant, name="Quiet Ltd", domains=["quiet.example"])
    with transaction.atomic():
        # the identity lookup, contact, identity, audit entry, event: no organization query
        with django_assert_num_queries(5):
            made = services.contact_resolve(tenant=in_tenant, kind="email", value="a@quiet.example",
                                            assigning_organizations=False)
    assert made.organization is None
    with transaction.atomic():
        with django_assert_num_queries(6):
            services.contact_resolve(tenant=in_tenant, kind="email", value="b@quiet.example")


@pytest.mark.parametrize("kind,value,field", [("email", "not an email", "value"), ("phone", "12", "value"),
                                              ("fax", "x", "kind"), ("social", "   ", "value")])
def test_resolve_refuses_bad_identities(in_tenant, kind, value, field):
    with pytest.raises(ValidationError) as info:
        services.contact_resolve(tenant=in_tenant, kind=kind, value=value)
    assert field in info.value.message_dict
    assert not Contact.objects.exists()


def test_new_email_contacts_join_the_auto_assigning_organization_of_their_domain(in_tenant):
    tenant = in_tenant
    joining = services.organization_create(tenant=tenant, name="Yıldız A.Ş.", domains=["Yildiz.com.tr"],
                                           auto_assign=True)
    services.organization_create(tenant=tenant, name="Quiet Ltd", domains=["quiet.example"])
    assert contact_for_email(tenant=tenant, email="Emre@YILDIZ.com.tr").organization == joining
    assert services.contact_resolve(tenant=tenant, kind="email", value="x@quiet.example").organization is None
    assert services.contact_resolve(tenant=tenant, kind="email", value="x@sub.yildiz.com.tr").organization is None
    made = services.contact_create(tenant=tenant, identities=[{"kind": "email", "value": "a@yildiz.com.tr"}])
    assert made.organization == joining and made.name == "a"


def test_contact_for_email_keeps_its_error_key(in_tenant):
    with pytest.raises(ValidationError) as info:
        contact_for_email(tenant=in_tenant, email="nope")
    assert info.value.message_dict == {"requester.email": ["Enter a valid email address."]}


# --- identities ----------------------------------------------------------------------------------


def test_identity_add_normalises_and_names_the_conflict(in_tenant, agent):
    tenant = in_tenant
    ayse = ContactFactory(tenant=tenant, name="Ayşe")
    other = ContactFactory(tenant=tenant, name="Mehmet")
    ContactIdentityFactory(tenant=tenant, contact=other, kind="email", value="mehmet@example.org")
    first = services.identity_add(contact=ayse, kind="email", value=" Ayse@Example.ORG", actor=agent)
    assert first.value == "ayse@example.org" and first.is_primary
    second = services.identity_add(contact=ayse, kind="email", value="ayse@work.example", actor=agent)
    assert not second.is_primary
    with pytest.raises(ValidationError) as info:
        services.identity_add(contact=ayse, kind="email", value="MEHMET@example.org", actor=agent)
    assert "Mehmet" in info.value.message_dict["value"][0] and f"#{other.pk}" in info.value.message_dict["value"][0]
    with pytest.raises(ValidationError) as info:
        services.identity_add(contact=ayse, kind="email", value="ayse@example.org", actor=agent)
    assert "already has" in info.value.message_dict["value"][0]
    services.identity_add(contact=ayse, kind="email", value="new@example.org", is_primary=True, actor=agent)
    assert set(ContactIdentity.objects.filter(contact=ayse, is_primary=True).values_list("value", flat=True)) == {
        "new@example.org"}


def test_removing_the_last_identity_is_allowed_and_audited(in_tenant, agent):
    contact = ContactFactory(tenant=in_tenant)
    first = ContactIdentityFactory(tenant=in_tenant, contact=contact, value="one@example.org", is_primary=True)
    second = ContactIdentityFactory(tenant=in_tenant, contact=contact, value="two@example.org")
    services.identity_remove(identity=first, actor=agent)
    second.refresh_from_db()
    assert second.is_primary  # the next of its kind takes over
    services.identity_remove(identity=second, actor=agent)
    assert Contact.objects.filter(pk=contact.pk).exists()
    entry = AuditEntry.objects.filter(action="contact.identity_removed").order_by("-id").first()
    assert entry.after["identities_left"] == 0 and entry.after["warning"]


def test_people_without_the_capability_cannot_change_contacts(in_tenant, light_agent):
    contact = ContactFactory(tenant=in_tenant)
    with pytest.raises(PermissionDenied):
        services.contact_update(contact=contact, actor=light_agent, name="x")
    with pytest.raises(PermissionDenied):
        services.identity_add(contact=contact, kind="email", value="a@b.example", actor=light_agent)
    with pytest.raises(PermissionDenied):
        services.organization_create(tenant=in_tenant, name="X", actor=light_agent)


# --- contacts and organizations -----------------------------------------------------------------------


def test_contact_update_validates_and_merges_attributes(in_tenant, agent):
    contact = services.contact_create(tenant=in_tenant, actor=agent, name="Ayşe", attributes={"plan": "Basic",
                                                                                              "seats": 3})
    services.contact_update(contact=contact, actor=agent, attributes={"plan": "Premium", "seats": None, "vip": True})
    contact.refresh_from_db()
    assert contact.attributes == {"plan": "Premium", "vip": True}
    for bad in ({"locale": "Turkish!"}, {"timezone": "Mars/Base"}, {"attributes": {"x": {"nested": 1}}},
                {"attributes": ["list"]}, {"name": "x" * 201}):
        with pytest.raises(ValidationError):
            services.contact_update(contact=contact, actor=agent, **bad)
    contact.refresh_from_db()
    assert contact.attributes == {"plan": "Premium", "vip": True} and contact.name == "Ayşe"


def test_organization_domains_are_cleaned_and_unique_across_organizations(in_tenant, agent):
    org = services.organization_create(tenant=in_tenant, name="Acme", domains=["@ACME.example", "acme.example",
                                                                                 "Shop.Acme.example."], actor=agent)
    assert org.domains == ["acme.example", "shop.acme.example"]
    with pytest.raises(ValidationError) as info:
        services.organization_create(tenant=in_tenant, name="Other", domains=["acme.example"], actor=agent)
    assert "Acme" in info.value.message_dict["domains"][0]
    with pytest.raises(ValidationError):
        services.organization_create(tenant=in_tenant, name="acme", actor=agent)  # names: case-insensitive
    for bad in (["not a domain"], ["localhost"], "x" * 300, [1]):
        with pytest.raises(ValidationError):
            services.organization_update(organization=org, domains=bad, actor=agent)
    org.refresh_from_db()
    assert org.domains == ["acme.example", "shop.acme.example"]
    services.organization_update(organization=org, domains=["acme.example"], auto_assign=True, actor=agent)
    services.organization_create(tenant=in_tenant, name="Shop", domains=["shop.acme.example"], actor=agent)


def test_domains_of_another_tenant_do_not_count(in_tenant, other_tenant):
    from helpdesk.tenancy.context import tenant_scope

    with tenant_scope(other_tenant):
        services.organization_create(tenant=other_tenant, name="Theirs", domains=["shared.example"],
                                     auto_assign=True)
    mine = services.organization_create(tenant=in_tenant, name="Mine", domains=["shared.example"])
    assert mine.domains == ["shared.example"]
    assert services.contact_resolve(tenant=in_tenant, kind="email", value="a@shared.example").organization is None


def test_a_contact_with_tickets_cannot_be_deleted(in_tenant, agent):
    contact = ContactFactory(tenant=in_tenant)
    ContactIdentityFactory(tenant=in_tenant, contact=contact)
    ticket = TicketFactory(tenant=in_tenant, requester=contact)
    with pytest.raises(services.ContactInUse) as info:
        services.contact_delete(contact=contact, actor=agent)
    assert "tickets" in info.value.messages[0]
    assert Contact.objects.filter(pk=contact.pk).exists()
    ticket.delete()
    services.contact_delete(contact=contact, actor=agent)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not ContactIdentity.objects.filter(contact_id=contact.pk).exists()
    assert AuditEntry.objects.filter(action="contact.deleted", object_id=str(contact.pk)).exists()


def test_deleting_an_organization_keeps_its_contacts(in_tenant, agent):
    org = OrganizationFactory(tenant=in_tenant)
    contact = ContactFactory(tenant=in_tenant, organization=org)
    services.organization_delete(organization=org, actor=agent)
    contact.refresh_from_db()
    assert contact.organization is None


# --- merging ---------------------------------------------------------------------------------------


def test_merge_moves_every_ticket_identity_and_message_and_drops_only_duplicate_ccs(in_tenant, agent):
    tenant = in_tenant
    org = OrganizationFactory(tenant=tenant)
    source = ContactFactory(tenant=tenant, name="A. Yılmaz", organization=org, notes="Prefers phone.",
                            attributes={"plan": "Basic", "city": "İzmir"}, locale="tr")
    target = ContactFactory(tenant=tenant, name="Ayşe Yılmaz", notes="VIP.", attributes={"plan": "Premium"})
    ContactIdentityFactory(tenant=tenant, contact=target, kind="email", value="ayse@example.org", is_primary=True)
    ContactIdentityFactory(tenant=tenant, contact=source, kind="email", value="a.yilmaz@example.org",
                           is_primary=True)
    ContactIdentityFactory(tenant=tenant, contact=source, kind="phone", value="+905321234567", is_primary=True)
    source_tickets = [TicketFactory(tenant=tenant, requester=source) for _ in range(3)]
    target_ticket = TicketFactory(tenant=tenant, requester=target)
    both_cc = TicketFactory(tenant=tenant)
    TicketCCFactory(tenant=tenant, ticket=both_cc, contact=source)
    TicketCCFactory(tenant=tenant, ticket=both_cc, contact=target)
    only_source_cc = TicketCCFactory(tenant=tenant, contact=source)
    message = MessageFactory(tenant=tenant, ticket=source_tickets[0], author_contact=source,
                             kind=MessageKind.PUBLIC)
    identities_before = identities_of(source) | identities_of(target)
    tickets_before = set(Ticket.objects.values_list("pk", flat=True))

    survivor = services.contact_merge(tenant=tenant, source=source, target=target, actor=agent)

    assert survivor.pk == target.pk
    assert not Contact.objects.filter(pk=source.pk).exists()
    assert set(Ticket.objects.values_list("pk", flat=True)) == tickets_before  # nothing lost
    assert set(Ticket.objects.filter(requester=target).values_list("pk", flat=True)) == {
        t.pk for t in [*source_tickets, target_ticket]}
    assert identities_of(target) == identities_before
    assert set(ContactIdentity.objects.filter(contact=target, is_primary=True).values_list("value", flat=True)) == {
        "ayse@example.org", "+905321234567"}
    assert list(TicketCC.objects.filter(ticket=both_cc).values_list("contact_id", flat=True)) == [target.pk]
    assert TicketCC.objects.get(pk=only_source_cc.pk).contact_id == target.pk
    assert Message.objects.get(pk=message.pk).author_contact_id == target.pk
    target.refresh_from_db()
    assert target.attributes == {"plan": "Premium", "city": "İzmir"}
    assert target.notes == "VIP.\n\nPrefers phone."
    assert target.organization == org and target.locale == "tr" and target.name == "Ayşe Yılmaz"
    entry = AuditEntry.objects.get(action="contact.merged")
    assert entry.object_id == str(target.pk)
    assert entry.before["source"]["id"] == source.pk and entry.before["target"]["id"] == target.pk
    assert entry.after["source_id"] == source.pk
    assert entry.after["moved"]["tickets.ticket.requester"] == 3
    assert entry.after["dropped_duplicates"] == {"tickets.ticketcc.contact": 1}
    assert Event.objects.filter(type="contact.merged", payload__source_id=source.pk).exists()


def test_merge_refuses_itself_and_other_tenants(in_tenant, other_tenant, agent):
    contact = ContactFactory(tenant=in_tenant)
    with pytest.raises(ValidationError):
        services.contact_merge(tenant=in_tenant, source=contact, target=contact, actor=agent)
    foreign = ContactFactory(tenant=other_tenant)
    with pytest.raises(ValidationError):
        services.contact_merge(tenant=in_tenant, source=foreign, target=contact, actor=agent)
    with dangerously_unscoped():
        assert Contact.unscoped.filter(pk=foreign.pk).exists()


def test_merge_covers_relations_declared_without_a_reverse_name():
    """``Message.author_contact`` has ``related_name="+"``: the walk must still find it."""
    fields = {(rel.related_model._meta.label_lower, rel.field.name) for rel in services._reverse_relations()}
    assert {("tickets.message", "author_contact"), ("tickets.ticket", "requester"), ("tickets.ticketcc", "contact"),
            ("people.contactidentity", "contact")} <= fields

