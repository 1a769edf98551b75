from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import pytest
from django.db import connection

from .account_links_support import (  # noqa: F401
    account_links_mode,
    accounts_api,
    network_retries,
    signals_received,
)
from .embedded_support import csrf_client, embedded_mode, unfinished_account  # noqa: F401
from .factories import ExpressAccountFactory, UserFactory
from .forwarding_support import endpoint, forwarding_fake  # noqa: F401


def _loopback(host: Any) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pytest_sessionstart(session: pytest.Session) -> None:
    """No test reaches a real host, Stripe least of all: only loopback is allowed.

    The settings point the app at the fake Stripe; this makes a slip (a test
    that leaves the defaults, `https://api.stripe.com`, and calls out) fail
    at once instead of trying the network.
    """
    resolve = socket.getaddrinfo
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host.decode() if isinstance(host, bytes) else host):
            raise socket.gaierror(f"tests may not reach {host!r}")
        return resolve(host, *args, **kwargs)

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise ConnectionRefusedError(f"tests may not reach {address[0]!r}")

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return connect_ex(sock, address)

    socket.getaddrinfo = guarded_getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Row-lock tests need PostgreSQL; on SQLite they are skipped with a reason
    # (`.ci/run` runs the suite on both).
    if os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with empty caches: the per-user request counts and the
    reusable Account Links live there, and user ids repeat between tests."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


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
