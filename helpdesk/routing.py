"""Websocket routes of every app, gathered in one list."""
from django.urls import path

from helpdesk.console.consumers import ConsoleConsumer
from tickets.consumers import TicketPresenceConsumer

websocket_urlpatterns: list = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
    path("ws/tickets/<int:ticket_id>/", TicketPresenceConsumer.as_asgi()),
]
