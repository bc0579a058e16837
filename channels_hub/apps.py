from django.apps import AppConfig


class ChannelsHubConfig(AppConfig):
    name = "channels_hub"
    label = "channels_hub"
