"""Tasks that move money, for Django's Tasks framework (``PAYMENTS_PROCESSING = "task"``).

Imported only in that mode, as the webhook's task is (`webhooks.tasks`): by
`payments` when it hands a transfer over after commit, and by the platform's
worker, which finds the task by its dotted path.
"""

from __future__ import annotations

try:
    from django.tasks import task
except ImportError:  # Django < 6.0
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

from .transfers import send, send_reversal


@task()
def send_transfer(transfer_id: int) -> str:
    """Send the transfer ``transfer_id`` if it is pending, exactly as inline mode
    would; its state afterwards. Retrying the task is safe: the row decides."""
    transfer = send(transfer_id)
    return transfer.status if transfer is not None else "missing"


@task()
def send_reversal_task(reversal_id: int) -> str:
    """Ask Stripe for the reversal or refund ``reversal_id`` if it is pending, as
    inline mode would; its state afterwards. Retrying the task is safe."""
    reversal = send_reversal(reversal_id)
    return reversal.status if reversal is not None else "missing"
