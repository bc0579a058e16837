"""A URLconf with sample pages built on the guarded console bases (for test_base_views)."""
from django.http import HttpResponse
from django.urls import include, path

from helpdesk.console.views.base import ConsoleDetailView, ConsoleListView, ConsoleView
from helpdesk.people.models import Team
from helpdesk.tenancy.roles import Cap


class TeamDetail(ConsoleDetailView):
    capability = Cap.CONTACTS_VIEW
    model = Team

    def render_to_response(self, context, **kwargs):
        return HttpResponse(f"team:{context['object'].name}")


class TeamList(ConsoleListView):
    capability = Cap.CONTACTS_VIEW
    model = Team

    def safely_get_queryset(self, queryset):
        return queryset.order_by("name")

    def render_to_response(self, context, **kwargs):
        return HttpResponse(",".join(t.name for t in context["object_list"]))


class SettingsPage(ConsoleView):
    capability = Cap.SETTINGS_MANAGE

    def get(self, request):
        return HttpResponse("settings")


urlpatterns = [
    path("sample/teams/", TeamList.as_view(), name="sample-teams"),
    path("sample/teams/<int:pk>/", TeamDetail.as_view(), name="sample-team"),
    path("sample/settings/", SettingsPage.as_view(), name="sample-settings"),
    path("", include("helpdesk.urls")),
]
