"""Console routes of channels, under ``/console/channels/`` (namespace ``channels``): the
channel settings and mail logs (administrators), and the ticket page's delivery panels."""
from django.urls import path

from channels_hub.models import ChannelKind
from channels_hub.views import mail_log, settings, ticket_panels

app_name = "channels"

urlpatterns = [
    path("", settings.ChannelListView.as_view(), name="list"),
    path("portal/", settings.PortalSettingsView.as_view(), name="portal_settings"),
    path("new/email/", settings.ChannelCreateView.as_view(kind=ChannelKind.EMAIL), name="new_email"),
    path("new/connector/", settings.ChannelCreateView.as_view(kind=ChannelKind.CONNECTOR), name="new_connector"),
    path("<int:pk>/", settings.ChannelUpdateView.as_view(), name="edit"),
    path("<int:pk>/test-connection/", settings.ChannelImapTestView.as_view(), name="test_imap"),
    path("<int:pk>/send-test/", settings.ChannelSendTestView.as_view(), name="send_test"),
    path("<int:pk>/rotate-secret/", settings.ChannelRotateSecretView.as_view(), name="rotate_secret"),
    path("<int:pk>/delete/", settings.ChannelDeleteView.as_view(), name="delete"),
    path("<int:pk>/mail/", mail_log.ChannelMailLogView.as_view(), name="mail_log"),
    path("mail/<int:pk>/process/", mail_log.InboundProcessView.as_view(), name="inbound_process"),
    path("mail/<int:pk>/original.eml", mail_log.InboundRawView.as_view(), name="inbound_raw"),
    # The ticket page's delivery panels, refetched live (agents: tickets.view).
    path("tickets/<int:number>/email/", ticket_panels.TicketPanelView.as_view(panel=ticket_panels.EMAIL),
         name="ticket_email_panel"),
    path("tickets/<int:number>/connector/", ticket_panels.TicketPanelView.as_view(panel=ticket_panels.CONNECTOR),
         name="ticket_connector_panel"),
]
