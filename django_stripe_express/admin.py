"""Admin screens for support staff."""

from django.contrib import admin

from .models import ConnectAttempt, ExpressAccount, WebhookEvent


@admin.register(ExpressAccount)
class ExpressAccountAdmin(admin.ModelAdmin):
    list_display = ("stripe_id", "user", "livemode", "status", "connected_at")
    list_filter = ("status", "livemode")
    list_select_related = ("user",)
    search_fields = ("stripe_id", "email", "user__username", "user__email")
    raw_id_fields = ("user",)


@admin.register(ConnectAttempt)
class ConnectAttemptAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "flow", "outcome", "error_code")
    list_filter = ("outcome", "flow")
    list_select_related = ("user",)
    exclude = ("state",)  # a live CSRF token: never shown


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("stripe_id", "type", "account", "status", "created")
    list_filter = ("status", "type", "livemode")
    search_fields = ("stripe_id", "account")
