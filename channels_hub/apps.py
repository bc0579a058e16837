from django.apps import AppConfig

REPLY_CONSUMER = "email.replies"
SIDE_CONSUMER = "email.side_conversations"
AUTOMATION_CONSUMER = "email.automation"
NOTIFICATION_CONSUMER = "email.notifications"
CONNECTOR_REPLY_CONSUMER = "connector.replies"


def help_center_customer(request) -> tuple[int, int | None] | None:
    """The signed-in portal customer, for the help center's visibility rules
    (``knowledge.audience.register_customer_resolver``): (contact id, organization id)."""
    from channels_hub.portal.auth import current_account

    account = current_account(request)
    if account is None:
        return None
    return account.contact_id, account.contact.organization_id


class ChannelsHubConfig(AppConfig):
    name = "channels_hub"
    label = "channels_hub"

    def ready(self) -> None:
        from channels_hub.services.replies import (
            automation_email_consumer,
            notification_email_consumer,
            reply_consumer,
            side_message_consumer,
        )
        from helpdesk.events.registry import register_consumer

        register_consumer(REPLY_CONSUMER, reply_consumer, event_types=("ticket.message_added",))
        register_consumer(SIDE_CONSUMER, side_message_consumer, event_types=("ticket.side_message_added",))
        register_consumer(AUTOMATION_CONSUMER, automation_email_consumer, event_types=("ticket.email_requested",))
        register_consumer(NOTIFICATION_CONSUMER, notification_email_consumer, event_types=("notification.created",))

        from channels_hub.portal.services import portal_settings_create_default
        from helpdesk.tenancy.services import register_tenant_defaults

        register_tenant_defaults(portal_settings_create_default)

        from channels_hub.services.connector import connector_reply_consumer

        register_consumer(CONNECTOR_REPLY_CONSUMER, connector_reply_consumer, event_types=("ticket.message_added",))

        from channels_hub.views import register_nav

        register_nav()

        from knowledge.audience import register_customer_resolver

        register_customer_resolver(help_center_customer)
