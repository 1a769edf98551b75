"""A fake Stripe for tests and offline demos of django-stripe-express.

``FakeStripe`` is a local HTTP server that the real ``stripe`` library talks to
(``base_addresses`` pointed at ``fake.url``), plus helpers that sign webhook
payloads exactly as Stripe does. Standard library only: it must not pull test
dependencies into host projects.
"""

from .fake import CLIENT_ID, PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from .forwarding import Delivery, sign_payload, signature_header
from .objects import API_VERSION, build_event
from .state import FakeStripeError, RecordedRequest

__all__ = [
    "API_VERSION",
    "CLIENT_ID",
    "PUBLISHABLE_KEY",
    "SECRET_KEY",
    "WEBHOOK_SECRET",
    "Delivery",
    "FakeStripe",
    "FakeStripeError",
    "RecordedRequest",
    "build_event",
    "sign_payload",
    "signature_header",
]
