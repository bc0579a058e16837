"""Input (strict) and output serializers of contacts, organizations, imports and timelines.

Types and sizes are checked here; the rules (normalising identities, unique values and
domains, attribute shapes) live in ``people.services``. Output serializers never query:
identities and the organization come prefetched (``people.selectors.contact_rows``).
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from helpdesk.api.serializers import StrictInputSerializer
from helpdesk.people.models import (
    CONTACT_IMPORT_KINDS,
    ContactIdentity,
    IdentityKind,
    ImportKind,
    ImportStatus,
    Organization,
)


class IdentityOutput(serializers.ModelSerializer):
    class Meta:
        model = ContactIdentity
        fields = ("id", "kind", "provider", "value", "is_primary", "verified_at", "undeliverable_at",
                  "undeliverable_reason", "created_at")
        read_only_fields = fields


class OrganizationRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    organization = OrganizationRef(allow_null=True)
    locale = serializers.CharField(help_text=_("Language code, e.g. `tr` or `pt-BR`; empty if unknown."))
    timezone = serializers.CharField()
    notes = serializers.CharField()
    attributes = serializers.DictField(help_text=_("The company's own facts about the customer (plan, …)."))
    identities = IdentityOutput(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class IdentityInput(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=IdentityKind.choices)
    value = serializers.CharField(max_length=320, help_text=_("Normalised on the way in: emails lower-cased, "
                                                              "phone numbers in E.164 (`+905321234567`)."))
    provider = serializers.CharField(max_length=50, required=False, allow_blank=True,
                                     help_text=_("For social handles and external ids: the platform."))
    is_primary = serializers.BooleanField(required=False, default=False)


_ATTRIBUTES_HELP = _("A flat object of text, number or true/false values. On change, keys merge into the stored "
                     "ones; `null` removes a key.")


class ContactCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    organization_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    locale = serializers.CharField(max_length=10, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    attributes = serializers.DictField(required=False, help_text=_ATTRIBUTES_HELP)
    identities = IdentityInput(many=True, required=False)


class ContactUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    organization_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    locale = serializers.CharField(max_length=10, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    attributes = serializers.DictField(required=False, help_text=_ATTRIBUTES_HELP)


class ContactListParams(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200,
                              help_text=_("Part of a name, email, phone number, handle or external id."))
    organization_id = serializers.IntegerField(required=False, min_value=1)


class ContactMergeInput(StrictInputSerializer):
    source_id = serializers.IntegerField(min_value=1, help_text=_("The contact that is merged into this one and "
                                                                   "then deleted."))


class OrganizationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ("id", "name", "domains", "auto_assign", "notes", "created_at")
        read_only_fields = fields


class OrganizationCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    domains = serializers.ListField(child=serializers.CharField(max_length=253), required=False, max_length=50,
                                    help_text=_("Email domains of the organization, unique in the helpdesk."))
    auto_assign = serializers.BooleanField(required=False, default=False,
                                           help_text=_("New contacts with an email at one of the domains join."))
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class OrganizationUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    domains = serializers.ListField(child=serializers.CharField(max_length=253), required=False, max_length=50)
    auto_assign = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class OrganizationListParams(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200,
                              help_text=_("Part of the name or of a domain."))


class TimelineParams(serializers.Serializer):
    cursor = serializers.CharField(required=False, max_length=200)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)


class TimelineEntryOutput(serializers.Serializer):
    kind = serializers.CharField(help_text=_("`ticket`, `ticket_cc`, `message`, and what later apps add."))
    at = serializers.DateTimeField()
    title = serializers.CharField()
    url = serializers.CharField(help_text=_("The entry's page in the console."))
    summary = serializers.CharField()
    id = serializers.IntegerField()


class TimelineOutput(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text=_("Pass as `cursor` for older entries; null at the end."))
    results = TimelineEntryOutput(many=True)


class ImportErrorOutput(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("Row number in the file (the header is row 1)."))
    message = serializers.CharField()


class ImportJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    status = serializers.ChoiceField(choices=ImportStatus.choices)
    filename = serializers.CharField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    failed = serializers.IntegerField()
    percent = serializers.IntegerField()
    finished = serializers.BooleanField()
    errors = ImportErrorOutput(many=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ImportCreateInput(StrictInputSerializer):
    file = serializers.FileField(help_text=_("CSV (UTF-8 or Windows-1254), comma, semicolon or tab separated."))
    kind = serializers.ChoiceField(choices=[c for c in ImportKind.choices if c[0] in CONTACT_IMPORT_KINDS],
                                   required=False, default=ImportKind.CONTACTS)
