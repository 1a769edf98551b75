"""A webhook endpoint of the tests' own, to receive what the fake forwards."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Records each POST; answers ``status``; holds answers while ``gate`` is closed."""

    status: int = 200
    received: list[Received] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gate.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.received.append(Received(self.path, dict(self.headers), body))
                receiver.gate.wait(10)
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/stripe/webhook/"

    @property
    def types(self) -> list[str]:
        return [r.event["type"] for r in self.received]

    def close(self) -> None:
        self.gate.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def endpoint():
    """A webhook endpoint of the test's own (a `Receiver`)."""
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def forwarding_fake(fake_stripe, endpoint):
    """The fake, forwarding every change to `endpoint` (quick retries)."""
    fake_stripe.forward_to(endpoint.url, backoff=0.01)
    yield fake_stripe
    fake_stripe.stop_forwarding()
