"""Settings of the task workers that tests/test_webhook_worker.py starts.

The test settings, on the test's own database (its name comes from the test),
with the database task backend and an app that logs every signal to a file.
"""

import os

from .settings import *  # noqa: F403
from .settings import DATABASES, INSTALLED_APPS

DATABASES = {"default": {**DATABASES["default"], "NAME": os.environ["WORKER_DATABASE_NAME"]}}
DATABASES["default"].pop("TEST", None)
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
INSTALLED_APPS = [*INSTALLED_APPS, "tests.worker_app.SignalLogConfig"]
