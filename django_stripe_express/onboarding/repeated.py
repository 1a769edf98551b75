"""List parameters written ``name[]=a&name[]=b``, as Stripe documents them for Connect OAuth.

The ``stripe`` library writes a Python list as ``name[0]=a&name[1]=b``. Stripe's
Connect OAuth pages document ``suggested_capabilities[]`` and
``assert_capabilities[]`` with empty brackets, repeated. A dict holds each key
once, so every value gets a key object of its own that prints as the same
``name[]``: the library's encoder writes one ``key=value`` pair per entry.
"""

from __future__ import annotations

from collections.abc import Iterable


class _Key(str):
    """A dict key equal only to itself, so equal names make separate entries."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    __hash__ = object.__hash__


def repeated(name: str, values: Iterable[str]) -> dict[str, str]:
    """``{name[]: value, ...}`` entries for ``params``, one per value, in order."""
    return {_Key(f"{name}[]"): str(value) for value in values}
