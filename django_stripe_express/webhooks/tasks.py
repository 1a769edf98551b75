"""The webhook's task, for Django's Tasks framework (``WEBHOOK_PROCESSING = "task"``).

Imported only in that mode: by `process.queue_event` when it enqueues, and by
the platform's worker, which finds the task by its dotted path. Inline
deployments need no tasks framework. Django 6.0 has one (`django.tasks`);
older Djangos use its backport (``pip install "django-stripe-express[tasks]"``).
The platform's ``TASKS`` setting chooses the backend and so the worker: the
database backend and its ``db_worker``, RQ, Celery...
"""

from __future__ import annotations

try:
    from django.tasks import task
except ImportError:  # Django < 6.0
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

from .store import process_stored


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
