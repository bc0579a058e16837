from django.urls import path

from helpdesk.console.views import account, auth, contacts
from helpdesk.console.views import integrations as integration_views

app_name = "console"

urlpatterns = [
    path("", account.HomeView.as_view(), name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("login/verify/", auth.LoginVerifyView.as_view(), name="login_verify"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/complete/", auth.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password-reset/<uidb64>/<token>/", auth.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("profile/", account.ProfileView.as_view(), name="profile"),
    path("profile/two-factor/", account.TwoFactorSetupView.as_view(), name="two_factor_setup"),
    path("profile/two-factor/disable/", account.TwoFactorDisableView.as_view(), name="two_factor_disable"),
    path("language/", auth.LanguageView.as_view(), name="language"),
    path("tenant/", account.TenantSwitchView.as_view(), name="tenant_switch"),
    # Customers: contacts, organizations, CSV imports.
    path("contacts/", contacts.ContactListView.as_view(), name="contacts"),
    path("contacts/new/", contacts.ContactCreateView.as_view(), name="contacts_new"),
    path("contacts/imports/", contacts.ImportView.as_view(), name="contacts_imports"),
    path("contacts/imports/<int:pk>/", contacts.ImportDetailView.as_view(), name="contacts_import"),
    path("contacts/imports/<int:pk>/status/", contacts.ImportStatusView.as_view(), name="contacts_import_status"),
    path("contacts/<int:pk>/", contacts.ContactDetailView.as_view(), name="contact"),
    path("contacts/<int:pk>/identities/", contacts.ContactIdentityView.as_view(), name="contact_identities"),
    path("contacts/<int:pk>/timeline/", contacts.ContactTimelineView.as_view(), name="contact_timeline"),
    path("contacts/<int:pk>/merge/", contacts.ContactMergeView.as_view(), name="contact_merge"),
    path("contacts/<int:pk>/delete/", contacts.ContactDeleteView.as_view(), name="contact_delete"),
    path("organizations/", contacts.OrganizationListView.as_view(), name="organizations"),
    path("organizations/<int:pk>/", contacts.OrganizationDetailView.as_view(), name="organization"),
    path("organizations/<int:pk>/delete/", contacts.OrganizationDeleteView.as_view(), name="organization_delete"),
    # Customer data integrations: the requester card's panel and the settings pages.
    path("contacts/<int:pk>/integrations/", integration_views.ContactIntegrationsView.as_view(),
         name="contact_integrations"),
    path("settings/integrations/", integration_views.IntegrationListView.as_view(), name="integrations"),
    path("settings/integrations/new/", integration_views.IntegrationCreateView.as_view(), name="integration_new"),
    path("settings/integrations/<int:pk>/", integration_views.IntegrationUpdateView.as_view(),
         name="integration_edit"),
    path("settings/integrations/<int:pk>/delete/", integration_views.IntegrationDeleteView.as_view(),
         name="integration_delete"),
    path("settings/integrations/<int:pk>/test/", integration_views.IntegrationTestView.as_view(),
         name="integration_test"),
]
