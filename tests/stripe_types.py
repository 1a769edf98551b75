"""Check a deserialized Stripe object against stripe 16's type annotations.

The library's classes (``stripe.Account``, ``stripe.Account.Requirements``...)
declare each attribute's type: required or ``Optional``, enums as ``Literal``,
nested classes, lists. `problems` walks an object through typed attribute
access and lists every place it does not fit. An open enum
(``Literal[...] | str``, the library's room for values Stripe adds later) must
still hold one of the listed values: the fake only answers what Stripe documents.
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any

import stripe
from stripe import StripeObject


class _Names(dict):  # type: ignore[type-arg]
    """Names for string annotations: the class's own, then stripe's public ones."""

    def __init__(self, cls: type) -> None:
        super().__init__(vars(cls))

    def __missing__(self, name: str) -> Any:
        try:
            return getattr(stripe, name)
        except AttributeError:
            pass
        # stripe's modules import some classes under an alias for type checking
        # only (``from stripe._card import Card as CardResource``).
        if name.endswith("Resource") and hasattr(stripe, name[: -len("Resource")]):
            return getattr(stripe, name[: -len("Resource")])
        raise KeyError(name)


def hints(cls: type) -> dict[str, Any]:
    """The public, per-instance attributes ``cls`` declares, with their types."""
    found = typing.get_type_hints(
        cls, globalns=vars(sys.modules[cls.__module__]), localns=_Names(cls)
    )
    return {
        name: tp
        for name, tp in found.items()
        if not name.startswith("_") and typing.get_origin(tp) is not typing.ClassVar
    }


def _is_stripe_class(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, StripeObject)


def check(value: Any, tp: Any, path: str) -> list[str]:
    """What in ``value`` (at ``path``) does not fit type ``tp``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return []
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return [] if type(None) in args else [f"{path}: null where a value is required"]
        literals = [a for a in args if typing.get_origin(a) is typing.Literal]
        if literals and str in args and isinstance(value, str):
            allowed = {v for lit in literals for v in typing.get_args(lit)}
            return [] if value in allowed else [f"{path}: {value!r} not one of {sorted(allowed)}"]
        arms = [a for a in args if a is not type(None)]
        results = [check(value, arm, path) for arm in arms]
        return [] if any(not r for r in results) else min(results, key=len)
    if value is None:
        return [f"{path}: null where {tp} is required"]
    if origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r} not one of {list(args)}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} where a list is required"]
        return [p for i, item in enumerate(value) for p in check(item, args[0], f"{path}[{i}]")]
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a bool"]
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an int"]
    if tp in (str, float):
        return [] if isinstance(value, tp) else [f"{path}: {value!r} is not a {tp.__name__}"]
    target = origin or tp
    if _is_stripe_class(target):
        if not isinstance(value, StripeObject):
            return [f"{path}: {type(value).__name__} where {target.__name__} is required"]
        if target.__name__ == "ListObject":
            return [
                p for i, item in enumerate(value.data) for p in check(item, args[0], f"{path}[{i}]")
            ]
        if target.__name__ == "UntypedStripeObject":
            return []
        return problems(value, target, path)
    return []


def problems(obj: StripeObject, cls: type, path: str = "") -> list[str]:
    """Every attribute of ``obj`` that does not fit ``cls``'s annotations, and
    every key ``cls`` does not declare (Stripe's type lacks it)."""
    found: list[str] = []
    declared = hints(cls)
    for name in obj.to_dict(recursive=False):
        if name not in declared:
            found.append(f"{path}.{name}: not in {cls.__qualname__}" if path
                         else f"{name}: not in {cls.__qualname__}")
    for name, tp in declared.items():
        where = f"{path}.{name}" if path else name
        if name not in obj:
            optional = type(None) in typing.get_args(tp)
            if not optional:
                found.append(f"{where}: missing")
            continue
        found += check(getattr(obj, name), tp, where)
    return found
