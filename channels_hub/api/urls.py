from django.urls import path
from rest_framework.routers import SimpleRouter

from channels_hub.api.views import ChannelViewSet, EmailInboundView

router = SimpleRouter()
router.register("channels", ChannelViewSet, basename="channel")

urlpatterns = [
    path("channels/email/<str:key>/inbound/", EmailInboundView.as_view(), name="channel-email-inbound"),
    *router.urls,
]
