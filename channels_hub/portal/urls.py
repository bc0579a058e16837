"""Routes of the request portal, included at ``/hc/`` on tenant hosts. Only these paths: the
rest of ``/hc/`` belongs to the help center."""
from django.urls import path

from channels_hub.portal import views

app_name = "portal"

urlpatterns = [
    path("signin/", views.SigninView.as_view(), name="signin"),
    path("signin/<str:token>/", views.SigninLinkView.as_view(), name="signin_link"),
    path("signout/", views.SignoutView.as_view(), name="signout"),
    path("account/", views.AccountView.as_view(), name="account"),
    path("requests/", views.RequestListView.as_view(), name="requests"),
    path("requests/new/", views.RequestNewView.as_view(), name="request_new"),
    path("requests/suggest.json", views.RequestSuggestView.as_view(), name="request_suggest"),
    path("requests/suggest/<int:pk>/open/", views.RequestSuggestOpenView.as_view(), name="request_suggest_open"),
    path("requests/<int:number>/", views.RequestDetailView.as_view(), name="request"),
    path("requests/<int:number>/reply/", views.RequestReplyView.as_view(), name="request_reply"),
    path("requests/<int:number>/solve/", views.RequestSolveView.as_view(), name="request_solve"),
    path("requests/<int:number>/attachments/<str:token>/", views.AttachmentDownloadView.as_view(),
         name="attachment"),
]
