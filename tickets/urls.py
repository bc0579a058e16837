"""Console routes of tickets, under ``/console/tickets/`` (namespace ``tickets``).

A ticket is addressed by its number in the tenant (``/console/tickets/1042/``).
"""
from django.urls import path

from tickets.views import actions, create, detail, list as listing, relations

app_name = "tickets"

urlpatterns = [
    path("", listing.TicketListView.as_view(), name="list"),
    path("bulk/", listing.TicketBulkView.as_view(), name="bulk"),
    path("rows/", listing.TicketRowsView.as_view(), name="rows"),
    path("new/", create.TicketCreateView.as_view(), name="new"),
    path("attachments/<str:token>/", detail.AttachmentDownloadView.as_view(), name="attachment"),
    path("<int:number>/", detail.TicketDetailView.as_view(), name="detail"),
    path("<int:number>/messages/", detail.TicketMessagesView.as_view(), name="messages"),
    path("<int:number>/properties/", actions.TicketPropertiesView.as_view(), name="properties"),
    path("<int:number>/reply/", actions.TicketReplyView.as_view(), name="reply"),
    path("<int:number>/assign-to-me/", actions.TicketAssignToMeView.as_view(), name="assign_to_me"),
    path("<int:number>/macro/", actions.TicketMacroView.as_view(), name="macro"),
    path("<int:number>/time/", actions.TicketTimeView.as_view(), name="time"),
    path("<int:number>/follow/", actions.TicketFollowView.as_view(), name="follow"),
    path("<int:number>/merge/", relations.TicketMergeView.as_view(), name="merge"),
    path("<int:number>/link/", relations.TicketLinkView.as_view(), name="link"),
    path("<int:number>/ccs/", relations.TicketCCView.as_view(), name="ccs"),
    path("<int:number>/split/", relations.TicketSplitView.as_view(), name="split"),
    path("<int:number>/unlink/", relations.TicketUnlinkView.as_view(), name="unlink"),
    path("<int:number>/side-conversations/", relations.SideConversationCreateView.as_view(),
         name="side_conversations"),
    path("<int:number>/side-conversations/<int:side_id>/reply/", relations.SideConversationReplyView.as_view(),
         name="side_conversation_reply"),
    path("<int:number>/side-conversations/<int:side_id>/close/", relations.SideConversationCloseView.as_view(),
         name="side_conversation_close"),
]
