from django.apps import AppConfig

REPLY_CONSUMER = "email.replies"
SIDE_CONSUMER = "email.side_conversations"


class ChannelsHubConfig(AppConfig):
    name = "channels_hub"
    label = "channels_hub"

    def ready(self) -> None:
        from channels_hub.services.replies import reply_consumer, side_message_consumer
        from helpdesk.events.registry import register_consumer

        register_consumer(REPLY_CONSUMER, reply_consumer, event_types=("ticket.message_added",))
        register_consumer(SIDE_CONSUMER, side_message_consumer, event_types=("ticket.side_message_added",))
