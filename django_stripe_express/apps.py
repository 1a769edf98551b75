from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StripeExpressConfig(AppConfig):
    name = "django_stripe_express"
    verbose_name = _("Stripe Express")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import pre_delete

        from . import checks  # noqa: F401  (registers the system checks)
        from .models import disconnect_deleted_user
        from .payments import connect_receivers

        connect_receivers()
        # A deleted user's accounts are disconnected and kept, never cascaded.
        pre_delete.connect(
            disconnect_deleted_user, sender=settings.AUTH_USER_MODEL,
            dispatch_uid="django_stripe_express.disconnect_deleted_user",
        )
