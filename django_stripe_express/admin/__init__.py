"""Admin screens for support staff: accounts, onboarding attempts, webhook events.

Importing this package registers all three with the default admin site.
"""

from .accounts import ExpressAccountAdmin
from .attempts import ConnectAttemptAdmin
from .events import WebhookEventAdmin

__all__ = ["ConnectAttemptAdmin", "ExpressAccountAdmin", "WebhookEventAdmin"]
