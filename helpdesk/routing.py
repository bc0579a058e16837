"""Websocket routes of every app, gathered in one list."""
from django.urls import path

from helpdesk.console.consumers import ConsoleConsumer

websocket_urlpatterns: list = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
]
