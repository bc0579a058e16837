from django.urls import path
from rest_framework.routers import SimpleRouter

from channels_hub.api import connector
from channels_hub.api.views import ChannelViewSet, EmailInboundView

router = SimpleRouter()
router.register("channels", ChannelViewSet, basename="channel")

urlpatterns = [
    path("channels/email/<str:key>/inbound/", EmailInboundView.as_view(), name="channel-email-inbound"),
    path("channels/<str:key>/messages/", connector.ConnectorMessagesView.as_view(), name="channel-connector-messages"),
    path("channels/<str:key>/attachments/<str:token>/", connector.ConnectorAttachmentView.as_view(),
         name="channel-connector-attachment"),
    path("tickets/<int:pk>/deliveries/", connector.TicketDeliveriesView.as_view(), name="ticket-deliveries"),
    *router.urls,
]
