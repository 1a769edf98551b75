from django.urls import path

from . import views

app_name = "stripe_express"

urlpatterns = [
    path("connect/", views.connect, name="connect"),
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("onboarding/refresh/", views.onboarding_refresh, name="onboarding_refresh"),
    path("onboarding/return/", views.onboarding_return, name="onboarding_return"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("account-session/", views.account_session, name="account_session"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("webhook/", views.webhook, name="webhook"),
    # The same view: a Stripe event destination carries one payload family
    # (snapshot or thin), and deployments give each its own URL.
    path("webhook/thin/", views.webhook, name="thin_webhook"),
]
