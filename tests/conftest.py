from __future__ import annotations

import os

import pytest
from django.db import connection

from .account_links_support import account_links_mode, signals_received  # noqa: F401
from .factories import ExpressAccountFactory, UserFactory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Row-lock tests need PostgreSQL; on SQLite they are skipped with a reason
    # (`.ci/run` runs the suite on both).
    if os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def account(user):
    return ExpressAccountFactory(user=user)


@pytest.fixture
def logged_in_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def capture_signal():
    """``capture_signal(signal)``: a list that receives the kwargs of each send."""
    connected = []

    def capture(signal):
        received = []

        def receiver(sender, **kwargs):
            received.append(kwargs)

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return received

    yield capture
    for signal, receiver in connected:
        signal.disconnect(receiver)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
