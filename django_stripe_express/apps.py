from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StripeExpressConfig(AppConfig):
    name = "django_stripe_express"
    verbose_name = _("Stripe Express")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .payments import connect_receivers

        connect_receivers()
