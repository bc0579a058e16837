from django.urls import path

from helpdesk.console.views import account, auth

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
]
