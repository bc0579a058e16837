"""A help center written for the public pages' tests, made through the content services (so it
is sanitised and indexed as in production): two categories, nested sections, articles of every
visibility, a draft, an English-only article, labels, and a section only agents can read."""
from __future__ import annotations

from dataclasses import dataclass

from django.test import Client

from channels_hub.portal import auth
from helpdesk.tenancy.context import tenant_scope
from knowledge.models import Article, Category, HelpCenterSettings, Section, TranslationStatus, Visibility
from knowledge.services.content import NameInput, TranslationInput, article_create, category_create, section_create
from tests.channels_hub.factories import PortalAccountFactory
from tests.factories import ContactFactory, OrganizationFactory

PUBLISHED = TranslationStatus.PUBLISHED
DRAFT = TranslationStatus.DRAFT
HOST = "acme.localhost"
OTHER_HOST = "globex.localhost"


@dataclass
class HelpCenter:
    orders: Category
    shipping: Section       # top-level section of "orders"
    returns: Section        # nested under "shipping"
    agents_only: Section    # holds only an internal article
    where: Article          # public, en + tr, promoted, label "orders"
    address: Article        # public, en only, label "orders"
    returning: Article      # public, en + tr, in the nested section
    internal: Article       # internal, in "shipping", label "orders"
    escalation: Article     # internal, the only article of "agents_only"
    members: Article        # signed-in customers
    partners: Article       # one organization's customers
    draft: Article          # never published
    organization: object


def help_center(tenant) -> HelpCenter:
    with tenant_scope(tenant):
        HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"locales": ["en", "tr"]})
        organization = OrganizationFactory(tenant=tenant, name="Partner Org")
        orders = category_create(tenant=tenant, actor=None, translations=[
            NameInput("en", "Orders", "Everything about your orders."), NameInput("tr", "Siparişler")])
        shipping = section_create(tenant=tenant, actor=None, category=orders, translations=[
            NameInput("en", "Shipping"), NameInput("tr", "Kargo")])
        returns = section_create(tenant=tenant, actor=None, category=orders, parent=shipping, translations=[
            NameInput("en", "Returns"), NameInput("tr", "İadeler")])
        agents_only = section_create(tenant=tenant, actor=None, category=orders, translations=[
            NameInput("en", "Escalations desk")])

        def make(section, title, body, *, visibility=Visibility.PUBLIC, status=PUBLISHED, extra=(), **kwargs):
            return article_create(tenant=tenant, actor=None, section=section, visibility=visibility,
                                  translations=[TranslationInput("en", title, f"<p>{body}</p>", status), *extra],
                                  **kwargs)

        where = make(shipping, "Where is my order?", "Open the tracking link in your shipping email.",
                     is_promoted=True, labels=["orders"],
                     extra=[TranslationInput("tr", "Siparişim nerede?",
                                             "<p>Kargo e-postanızdaki takip bağlantısını açın.</p>", PUBLISHED)])
        address = make(shipping, "Changing your delivery address", "Write to us before the order ships.",
                       labels=["orders"])
        returning = make(returns, "How do I return an item?", "Print the return label and drop the parcel off.",
                         extra=[TranslationInput("tr", "Ürünü nasıl iade ederim?",
                                                 "<p>İade etiketini yazdırın ve paketi bırakın.</p>", PUBLISHED)])
        internal = make(shipping, "Secret carrier hotline", "Call 0800 SECRET before refunding.",
                        visibility=Visibility.INTERNAL, labels=["orders"])
        escalation = make(agents_only, "Escalation matrix", "Team leads take fraud cases.",
                          visibility=Visibility.INTERNAL)
        members = make(shipping, "Member shipping perks", "Members ship for free.", visibility=Visibility.SIGNED_IN)
        partners = make(shipping, "Partner pickup depot", "Partners pick up at the depot.",
                        visibility=Visibility.ORGANIZATIONS, organization_ids=[organization.pk])
        draft = make(shipping, "Unreleased shipping plans", "Not yet.", status=DRAFT)
    return HelpCenter(orders=orders, shipping=shipping, returns=returns, agents_only=agents_only, where=where,
                      address=address, returning=returning, internal=internal, escalation=escalation,
                      members=members, partners=partners, draft=draft, organization=organization)


def visitor(host: str = HOST, **extra) -> Client:
    return Client(HTTP_HOST=host, **extra)


def customer(tenant, *, organization=None, email: str = "jane@example.org") -> tuple[Client, object]:
    """A client signed in to the portal as a customer (of ``organization``, if given)."""
    contact = ContactFactory(tenant=tenant, name="Jane Doe", organization=organization)
    account = PortalAccountFactory(tenant=tenant, contact=contact, email=email)
    client = visitor()
    session = client.session
    session[f"portal:{tenant.pk}"] = {"account": account.pk, "hash": auth.session_hash(account)}
    session.save()
    return client, contact


def agent_client(user) -> Client:
    client = visitor()
    client.force_login(user)
    return client
