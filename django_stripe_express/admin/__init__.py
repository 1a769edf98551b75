"""Admin screens for support staff: accounts, onboarding attempts, webhook
events and account reassignments.

Importing this package registers them with the default admin site.
"""

from .accounts import ExpressAccountAdmin
from .attempts import ConnectAttemptAdmin
from .events import WebhookEventAdmin
from .reassignments import AccountReassignmentAdmin

__all__ = [
    "AccountReassignmentAdmin", "ConnectAttemptAdmin", "ExpressAccountAdmin", "WebhookEventAdmin"
]
