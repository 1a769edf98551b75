"""Transport-neutral request and response values passed between the layers.

The HTTP handler turns raw sockets into a ``Request``; route functions answer
with a ``Response``. Keeping them plain makes routes easy to read and test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    """A parsed request: nested params, lower-cased header names."""

    method: str
    path: str
    query: dict[str, Any]
    form: dict[str, Any]
    headers: dict[str, str]
    body: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    #: A JSON body (``/v2`` endpoints), decoded; `json_error` when it was not JSON.
    json_body: Any = None
    json_error: bool = False

    @property
    def params(self) -> dict[str, Any]:
        return {**self.query, **self.form}


@dataclass
class Response:
    """What to send back; ``body`` is JSON-encoded when it is a dict."""

    status: int
    body: dict[str, Any] | str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, body: dict[str, Any]) -> Response:
        return cls(status, body)

    @classmethod
    def html(cls, status: int, text: str) -> Response:
        return cls(status, text, {"Content-Type": "text/html; charset=utf-8"})

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, "", {"Location": location})

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict):
            return json.dumps(self.body, indent=2).encode(), "application/json"
        content_type = self.headers.get("Content-Type", "text/plain; charset=utf-8")
        return self.body.encode(), content_type


#: An endpoint: ``handler(state, request, **url_groups) -> Response``.
Route = Callable[..., Response]
