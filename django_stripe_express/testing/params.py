"""Decode Stripe's bracketed form encoding into nested dicts and lists.

The ``stripe`` library sends ``metadata[plan]=pro`` and ``suggested_capabilities[0]=
transfers``; hand-written links use ``suggested_capabilities[]=transfers``. The
fake has to read all of them the way Stripe does, so handlers can work on plain
Python structures instead of raw keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

_TOKEN = re.compile(r"\[([^\]]*)\]")


def _split(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_TOKEN.findall("[" + rest)]


def _listify(value: Any) -> Any:
    """Turn dicts keyed only by integers (``a[0]``, ``a[]``) into lists."""
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v) for k, v in value.items()}
    if converted and all(isinstance(k, str) and k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``(key, value)`` pairs: ``a[b][0]=x`` becomes ``{"a": {"b": ["x"]}}``."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _split(key)
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if last == "":
            last = str(len(node))
        node[last] = value
    return {k: _listify(v) for k, v in root.items()}


def decode_query(query: str) -> dict[str, Any]:
    """Decode a urlencoded string, keeping blank values (Stripe unsets with ``""``)."""
    return decode_pairs(parse_qsl(query, keep_blank_values=True))


def as_list(value: Any) -> list[str]:
    """Read a parameter that may arrive as one value or as a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def is_url(value: Any) -> bool:
    """An absolute http(s) URL with a host, as Stripe wants ``refresh_url`` / ``return_url``."""
    return isinstance(value, str) and bool(re.match(r"https?://[^\s/]+", value))


def as_bool(value: Any) -> bool:
    """Stripe's encoder sends booleans as ``"true"`` / ``"false"``."""
    return str(value).lower() in {"true", "1", "on", "yes"}
