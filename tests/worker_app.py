"""An app for the test's worker processes: each signal becomes a line in a file,
so the test counts the signals sent in another process."""

import os
from typing import Any

from django.apps import AppConfig


class SignalLogConfig(AppConfig):
    name = "tests"
    label = "worker_signal_log"

    def ready(self) -> None:
        from django_stripe_express import signals

        path = os.environ["WORKER_SIGNAL_LOG"]

        def log(name: str) -> Any:
            def receiver(sender: Any, event: Any, **kwargs: Any) -> None:
                with open(path, "a") as out:  # one short append: atomic between workers
                    out.write(f"{name} {event.stripe_id}\n")

            return receiver

        for name in ("account_updated", "webhook_event"):
            getattr(signals, name).connect(log(name), weak=False, dispatch_uid=f"log-{name}")
