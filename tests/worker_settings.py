"""Settings of the task workers that the worker tests start
(tests/test_webhook_worker.py, tests/test_payments_distributed.py).

The test settings, on the test's own database (its name comes from the test),
with an app that logs every signal to a file, and a task backend: the
database backend by default, RQ on Redis with ``WORKER_TASKS=rq`` (the queue's
Redis in ``WORKER_REDIS_URL``). ``WORKER_STRIPE_EXPRESS`` (JSON), when given,
replaces ``STRIPE_EXPRESS``: the test's fake Stripe and mode.
"""

import json
import os

from .settings import *  # noqa: F403
from .settings import DATABASES, INSTALLED_APPS

DATABASES = {"default": {**DATABASES["default"], "NAME": os.environ["WORKER_DATABASE_NAME"]}}
DATABASES["default"].pop("TEST", None)
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
INSTALLED_APPS = [*INSTALLED_APPS, "tests.worker_app.SignalLogConfig"]
if os.environ.get("WORKER_TASKS") == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": os.environ["WORKER_REDIS_URL"]}}
if "WORKER_STRIPE_EXPRESS" in os.environ:
    STRIPE_EXPRESS = json.loads(os.environ["WORKER_STRIPE_EXPRESS"])
# The workers talk to the fake Stripe on purpose (W018: its public credentials).
SILENCED_SYSTEM_CHECKS = ["django_stripe_express.W018"]
