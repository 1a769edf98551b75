"""Values every database can store, from JSON that Stripe (or anyone signing as
Stripe) sent.

A JSON body can carry what no column takes: ``\\u0000`` (PostgreSQL refuses NUL
in text and in ``jsonb``), a lone ``\\ud800`` (half of a UTF-16 pair, which no
driver can encode as UTF-8) and numbers too large for a float (``1e999`` is
``inf`` in Python, then ``Infinity``, which is not JSON). Each would make the
write fail, and the record of that failure fail the same way. Here they become
U+FFFD (text) or ``None`` (numbers), and the caller learns how many there were.
"""

from __future__ import annotations

import math
import re
from typing import Any

REPLACEMENT = "\ufffd"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What, in a raw JSON body, can decode to one of those: the escapes, and the
# literals and exponents Python's json reads as non-finite floats. A hint
# (a match may be harmless), so that most bodies need no walk at all.
_HINT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity|[0-9][eE][+]?[0-9]{3}")


def may_need_repair(body: bytes) -> bool:
    """Whether the decoded `body` may hold something `storable_json` replaces."""
    return _HINT.search(body) is not None


def storable_text(value: str) -> tuple[str, int]:
    """`value` with NUL and lone surrogates replaced, and how many were."""
    return _UNSTORABLE.subn(REPLACEMENT, value)


def storable_json(value: Any) -> tuple[Any, int]:
    """A decoded JSON value every database stores, and how many parts were replaced."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None, 1
    if isinstance(value, list):
        items = [storable_json(item) for item in value]
        return [item for item, _ in items], sum(count for _, count in items)
    if isinstance(value, dict):
        repaired: dict[str, Any] = {}
        total = 0
        for key, item in value.items():
            key, in_key = storable_text(key)
            repaired[key], in_item = storable_json(item)
            total += in_key + in_item
        return repaired, total
    return value, 0
