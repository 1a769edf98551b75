"""pytest fixtures for the fake Stripe, loaded through the ``pytest11`` entry point.

Host projects get this in every pytest run, so importing it must stay cheap and
must not touch Django models or require Django at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .fake import FakeStripe


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripe]:
    """One fake Stripe listening for the whole test session."""
    with FakeStripe() as fake:
        yield fake


def _django_settings(request: pytest.FixtureRequest) -> Any:
    """pytest-django's ``settings`` fixture, or ``None`` without a configured Django."""
    try:
        from django.conf import settings
    except ImportError:
        return None
    if not settings.configured:
        return None
    try:
        return request.getfixturevalue("settings")
    except pytest.FixtureLookupError:
        return None


def _enable_database(request: pytest.FixtureRequest) -> None:
    """pytest-django's ``db``, unless the test asked for the transactional one.

    The fake's webhook helpers (`FakeStripe.deliver`, `post_event`) reach the
    app's webhook, which writes: a test using the fake needs no mark for that.
    """
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        return
    try:
        request.getfixturevalue("db")
    except pytest.FixtureLookupError:
        return


def _immediate_backend() -> str | None:
    """Dotted path of the Tasks framework's ImmediateBackend, None without one."""
    from importlib.util import find_spec

    for package in ("django.tasks", "django_tasks"):
        try:
            if find_spec(package) is not None:
                return f"{package}.backends.immediate.ImmediateBackend"
        except ImportError:  # django.tasks' parent is there, the module is not
            continue
    return None


def _run_tasks_now(settings: Any) -> None:
    """In task mode, the default task backend runs each task when it is queued.

    No worker runs during a test: with the project's backend (a database
    queue...) a delivered event would stay *received* and the test would see
    nothing. A test of the queue itself sets ``settings.TASKS`` again.
    """
    if settings.STRIPE_EXPRESS.get("WEBHOOK_PROCESSING") != "task":
        return
    backend = _immediate_backend()
    if backend is None:
        return  # check E023 says what is missing
    tasks = dict(getattr(settings, "TASKS", None) or {})
    tasks["default"] = {"BACKEND": backend}
    settings.TASKS = tasks


@pytest.fixture
def fake_stripe(
    fake_stripe_server: FakeStripe, request: pytest.FixtureRequest
) -> Iterator[FakeStripe]:
    """The session's fake with fresh state; Django's ``STRIPE_EXPRESS`` points at it.

    Its keys are merged into the project's ``STRIPE_EXPRESS`` (every other key
    stays), and the test gets database access (pytest-django's ``db``). With
    ``WEBHOOK_PROCESSING = "task"`` the default task backend becomes the
    ImmediateBackend, so that `FakeStripe.deliver` applies the event at once.
    """
    fake_stripe_server.reset()
    settings = _django_settings(request)
    if settings is not None:
        current = getattr(settings, "STRIPE_EXPRESS", None) or {}
        settings.STRIPE_EXPRESS = {**current, **fake_stripe_server.settings()}
        _run_tasks_now(settings)
        _enable_database(request)
    yield fake_stripe_server
    fake_stripe_server.reset()


@pytest.fixture
def fake_stripe_client(fake_stripe: FakeStripe) -> Any:
    """A ``stripe.StripeClient`` talking to ``fake_stripe`` (no retries)."""
    import stripe

    return stripe.StripeClient(
        fake_stripe.secret_key,
        base_addresses={"api": fake_stripe.api_base, "connect": fake_stripe.connect_base},
        client_id=fake_stripe.client_id,
        max_network_retries=0,
    )
