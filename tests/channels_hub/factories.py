"""Factories of the channels app (the isolation harness makes one row of each)."""
from __future__ import annotations

import factory
from django.utils import timezone

from channels_hub.models import (
    Channel,
    ChannelKind,
    ConnectorConversation,
    ConnectorDelivery,
    ConnectorInbound,
    EmailThreadRef,
    InboundEmail,
    OutboundEmail,
    PortalAccount,
    PortalLink,
    PortalSettings,
)
from tests.factories import ContactFactory, TenantOwnedFactory
from tests.tickets.factories import MessageFactory, TicketFactory

SAME_TENANT = factory.SelfAttribute("..tenant")


class ChannelFactory(TenantOwnedFactory):
    class Meta:
        model = Channel

    kind = ChannelKind.EMAIL
    name = factory.Sequence(lambda n: f"Mailbox {n}")
    address = factory.Sequence(lambda n: f"support{n}@acme.test")


class InboundEmailFactory(TenantOwnedFactory):
    class Meta:
        model = InboundEmail

    channel = factory.SubFactory(ChannelFactory, tenant=SAME_TENANT)
    source = "hook"
    raw = b"From: a@example.org\r\nSubject: canary\r\n\r\nbody\r\n"
    size = 44
    sender = "a@example.org"
    subject = "canary"


class EmailThreadRefFactory(TenantOwnedFactory):
    class Meta:
        model = EmailThreadRef

    message_id = factory.Sequence(lambda n: f"ref-{n}@example.org")
    direction = "in"
    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)


class OutboundEmailFactory(TenantOwnedFactory):
    class Meta:
        model = OutboundEmail

    kind = "reply"
    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    from_email = "support@acme.test"
    to = factory.LazyFunction(lambda: ["jane@example.org"])
    subject = "canary"
    body_text = "canary"
    message_id = factory.Sequence(lambda n: f"out-{n}@acme.test")


class ConnectorChannelFactory(ChannelFactory):
    kind = ChannelKind.CONNECTOR
    address = ""
    provider = "whatsapp"
    webhook_url = "https://bridge.example.org/replies"


class ConnectorInboundFactory(TenantOwnedFactory):
    class Meta:
        model = ConnectorInbound

    channel = factory.SubFactory(ConnectorChannelFactory, tenant=SAME_TENANT)
    external_id = factory.Sequence(lambda n: f"wamid.{n}")
    conversation_id = "conv-1"
    payload = factory.LazyFunction(lambda: {"text": "canary"})


class ConnectorConversationFactory(TenantOwnedFactory):
    class Meta:
        model = ConnectorConversation

    channel = factory.SubFactory(ConnectorChannelFactory, tenant=SAME_TENANT)
    conversation_id = factory.Sequence(lambda n: f"conv-{n}")
    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)


class ConnectorDeliveryFactory(TenantOwnedFactory):
    class Meta:
        model = ConnectorDelivery

    conversation = factory.SubFactory(ConnectorConversationFactory, tenant=SAME_TENANT)
    channel = factory.SelfAttribute("conversation.channel")
    ticket_message = factory.SubFactory(MessageFactory, tenant=SAME_TENANT,
                                        ticket=factory.SelfAttribute("..conversation.ticket"))


class PortalSettingsFactory(TenantOwnedFactory):
    class Meta:
        model = PortalSettings
        django_get_or_create = ("tenant",)


class PortalAccountFactory(TenantOwnedFactory):
    class Meta:
        model = PortalAccount

    contact = factory.SubFactory(ContactFactory, tenant=SAME_TENANT)
    email = factory.Sequence(lambda n: f"customer{n}@example.org")


class PortalLinkFactory(TenantOwnedFactory):
    class Meta:
        model = PortalLink

    account = factory.SubFactory(PortalAccountFactory, tenant=SAME_TENANT)
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(minutes=30))
