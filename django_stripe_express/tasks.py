"""The work the app hands to the platform's task workers, through Django's Tasks framework.

Imported only in a task mode (``WEBHOOK_PROCESSING = "task"``,
``PAYMENTS_PROCESSING = "task"``): by the code that enqueues after commit, and
by the platform's worker, which finds each task by its dotted path. Inline
deployments need no tasks framework. Django 6.0 has one (`django.tasks`);
older Djangos use its backport (``pip install "django-stripe-express[tasks]"``).
The platform's ``TASKS`` setting chooses the backend and so the worker: the
database backend and its ``db_worker``, RQ, Celery...

Every task only names a row; the row decides what is left to do, so a task run
twice, or retried after a killed worker, does the work once.
"""

from __future__ import annotations

try:
    from django.tasks import task
except ImportError:  # Django < 6.0
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

from .payments.transfers import send, send_reversal
from .webhooks.store import process_stored


class _WebhookEventFailed(Exception):
    """The event failed; it is recorded as failed and processed again when it comes back."""


@task()
def process_webhook_event(event_id: str) -> str:
    """Apply the recorded event `event_id`, exactly as the inline path would."""
    answer = process_stored(event_id)
    if answer.status_code >= 500:
        # The task fails too, so the backend's own records (and admin) agree.
        # Only the id: the cause is logged and stored beside the event.
        raise _WebhookEventFailed(f"webhook event {event_id} failed; see its record")
    return answer.message


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
