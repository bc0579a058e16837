"""A small help center written for the answering-first tests: parcel articles of every
visibility, a draft, and a Turkish translation, made through the content services so they are
indexed for search as in production."""
from __future__ import annotations

from dataclasses import dataclass

from helpdesk.tenancy.context import tenant_scope
from knowledge.models import Article, HelpCenterSettings, Section, TranslationStatus, Visibility
from knowledge.services.content import NameInput, TranslationInput, article_create, category_create, section_create
from tests.factories import OrganizationFactory

PUBLISHED = TranslationStatus.PUBLISHED
DRAFT = TranslationStatus.DRAFT


@dataclass
class HelpCenter:
    section: Section
    tracking: Article        # public, en + tr
    refunds: Article         # public, en
    internal: Article        # agents only
    members: Article         # signed-in customers
    partners: Article        # one organization's customers
    draft: Article           # never published
    organization: object


def help_center(tenant, **settings_fields) -> HelpCenter:
    """The fixture help center of ``tenant``; ``settings_fields`` go on its settings row."""
    with tenant_scope(tenant):
        HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"locales": ["en", "tr"],
                                                                             **settings_fields})
        organization = OrganizationFactory(tenant=tenant, name="Partner Org")
        category = category_create(tenant=tenant, actor=None, translations=[NameInput("en", "Shipping"),
                                                                            NameInput("tr", "Kargo")])
        section = section_create(tenant=tenant, actor=None, category=category,
                                 translations=[NameInput("en", "Parcels"), NameInput("tr", "Paketler")])

        def make(title: str, body: str, *, visibility=Visibility.PUBLIC, status=PUBLISHED, extra=(), **kwargs):
            return article_create(tenant=tenant, actor=None, section=section, visibility=visibility,
                                  translations=[TranslationInput("en", title, f"<p>{body}</p>", status), *extra],
                                  **kwargs)

        tracking = make(
            "How do I track my parcel?",
            "Open the tracking link in your shipping email to see where your parcel is and when it arrives.",
            extra=[TranslationInput("tr", "Kargomu nasıl takip ederim?",
                                    "<p>Kargo e-postanızdaki takip bağlantısını açın: kargonuzun nerede olduğunu "
                                    "ve ne zaman geleceğini görürsünüz.</p>", PUBLISHED)])
        refunds = make("Refunds for a parcel that never arrived",
                       "If your parcel never arrived we refund the order in full within five days.")
        internal = make("Parcel escalation checklist for agents",
                        "Internal: call the carrier hotline before refunding a lost parcel.",
                        visibility=Visibility.INTERNAL)
        members = make("Parcel insurance for members",
                       "Members get free insurance on every parcel they send.",
                       visibility=Visibility.SIGNED_IN)
        partners = make("Parcel pickup for partners",
                        "Partners can pick up a parcel at the depot.",
                        visibility=Visibility.ORGANIZATIONS, organization_ids=[organization.pk])
        draft = make("Parcel lockers", "Parcel lockers are coming soon, a draft.", status=DRAFT)
    return HelpCenter(section=section, tracking=tracking, refunds=refunds, internal=internal, members=members,
                      partners=partners, draft=draft, organization=organization)
