"""Request parameters checked as Stripe checks them, against the ``stripe`` library's types.

``stripe.params`` has one ``TypedDict`` per endpoint, generated from Stripe's
API specification: every parameter, nested hashes and lists, enums, which keys
are required, which values may be ``""`` (unset). The fake reads them instead
of keeping its own lists, so it refuses what Stripe refuses, at any depth, with
Stripe's error codes:

* an unknown key, ``capabilities[colour]`` included: ``parameter_unknown``;
* a required key left out: ``parameter_missing``;
* ``""`` where a value cannot be unset: ``parameter_invalid_empty``;
* not an integer: ``parameter_invalid_integer``;
* a value outside an enum, not a boolean, a hash or list given as a string
  (or the other way round): ``invalid_request_error`` naming the parameter.

``@validated(SomeParams)`` on an endpoint checks the form (POST) or the query
string (GET, DELETE) before the endpoint runs.

``/v2`` endpoints take JSON (``problem(..., json=True)``, from `v2.py`): the
same walk over ``stripe.params.v2`` types, with JSON's own scalars (a boolean
is ``true``, a number a number, ``null`` only where the type is optional),
parameters named by their dotted path (``identity.country``) and v2 error
bodies.
"""

from __future__ import annotations

import functools
import re
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

import stripe

from . import objects, objects_v2
from .server import Response
from .state import RecordedRequest

# Keys of every params TypedDict that are client options, never sent as parameters.
_OPTIONS = frozenset(stripe.RequestOptions.__annotations__)
_WRAPPERS = {
    getattr(module, name)
    for module in (typing, sys.modules.get("typing_extensions"))
    if module is not None
    for name in ("NotRequired", "Required")
    if hasattr(module, name)
}
_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?(\d+\.?\d*|\.\d+)")


class Invalid(Exception):
    """A parameter Stripe would refuse; ``response()`` is Stripe's answer."""

    def __init__(self, message: str, param: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code

    def response(self, *, json: bool = False) -> Response:
        if json:
            return Response.json(400, objects_v2.error(self.message, code=self.code))
        return Response.json(
            400, objects.api_error(self.message, code=self.code, param=self.param)
        )


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) in _WRAPPERS:
        tp = typing.get_args(tp)[0]
    return tp


@functools.cache
def fields(params_type: type) -> tuple[dict[str, Any], frozenset[str]]:
    """``(name -> type, required names)`` of a params ``TypedDict``, options left out."""
    names = {k: v for k, v in params_type.__annotations__.items() if k not in _OPTIONS}
    # Evaluate the string annotations in the TypedDict's own module.
    holder = types.new_class("Fields", exec_body=lambda ns: ns.update(__annotations__=names))
    holder.__module__ = params_type.__module__
    hints = typing.get_type_hints(holder)
    required = frozenset(getattr(params_type, "__required_keys__", ())) - _OPTIONS
    return {name: _unwrap(tp) for name, tp in hints.items()}, required


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def _kind(value: Any) -> str:
    return "hash" if isinstance(value, dict) else "list" if isinstance(value, list) else "scalar"


def _expects(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if _is_typeddict(tp) or origin is dict:
        return "hash"
    if origin is list:
        return "list"
    return "scalar"


def _empty(param: str) -> Invalid:
    return Invalid(
        f"You passed an empty string for '{param}'. We assume empty values are an attempt "
        f"to unset a parameter; however '{param}' cannot be unset. You should remove "
        f"'{param}' from your request or supply a non-empty value.",
        param,
        "parameter_invalid_empty",
    )


_NAMES = {bool: "boolean", int: "integer", float: "decimal"}


def _check_scalar(tp: Any, value: Any, param: str) -> None:
    if not isinstance(value, str):  # a hash or a list where one value belongs
        raise Invalid(f"Invalid {_NAMES.get(tp, 'string')}: {param} takes a single value", param)
    origin = typing.get_origin(tp)
    if value == "" and not (origin is typing.Literal and "" in typing.get_args(tp)):
        raise _empty(param)
    if origin is typing.Literal:
        allowed = [str(a) for a in typing.get_args(tp)]
        if value not in allowed:
            listed = ", ".join(allowed[:-1]) + (f", or {allowed[-1]}" if len(allowed) > 1 else "")
            raise Invalid(f"Invalid {param}: must be one of {listed or allowed[0]}", param)
    elif tp is bool and value not in ("true", "false"):
        raise Invalid(f"Invalid boolean: {value}", param)
    elif tp is int and not _INTEGER.fullmatch(value):
        raise Invalid(f"Invalid integer: {value}", param, "parameter_invalid_integer")
    elif tp is float and not _DECIMAL.fullmatch(value):
        raise Invalid(f"Invalid decimal: {value}", param)


def _check_json_scalar(tp: Any, value: Any, param: str) -> None:
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            listed = ", ".join(str(a) for a in allowed)
            raise Invalid(f"{param}: must be one of {listed}.", param, "invalid_fields")
        return
    kinds: dict[Any, tuple[type, ...]] = {
        str: (str,), bool: (bool,), int: (int,), float: (int, float), type(None): (type(None),)
    }
    wanted = kinds.get(tp)
    # A class of the library's own (an untyped object) matches no JSON scalar.
    fits = wanted is not None and isinstance(value, wanted)
    if fits and tp is not bool and isinstance(value, bool):
        fits = False  # JSON's true is not a number
    if not fits:
        name = _NAMES.get(tp, "null" if tp is type(None) else "string")
        raise Invalid(f"{param}: must be a {name}.", param, "invalid_fields")


def _join(param: str, key: Any, json: bool) -> str:
    if json:
        return f"{param}.{key}" if param else str(key)
    return f"{param}[{key}]" if param else str(key)


def check(tp: Any, value: Any, param: str, *, json: bool = False) -> None:
    """Raise `Invalid` if ``value`` (as decoded from the request) does not fit ``tp``.

    ``json``: a ``/v2`` JSON body rather than a form or a query string.
    """
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        arms = typing.get_args(tp)
        errors: list[Invalid] = []
        for arm in arms:
            try:
                check(arm, value, param, json=json)
                return
            except Invalid as exc:
                errors.append(exc)
        # Report the arm of the value's own shape ("" for a hash: cannot be unset).
        fitting = [
            e for arm, e in zip(arms, errors, strict=True) if _expects(_unwrap(arm)) == _kind(value)
        ]
        raise (fitting or errors)[0]
    if _is_typeddict(tp):
        _check_hash(tp, value, param, json=json)
    elif origin is dict:
        if not isinstance(value, dict):
            raise _empty(param) if value == "" else Invalid("Invalid object", param)
        value_type = typing.get_args(tp)[1] if typing.get_args(tp) else Any
        for key, item in value.items():
            if item == "" and not json:  # metadata[key]= unsets it (docs.stripe.com/metadata)
                continue
            check(value_type, item, _join(param, key, json), json=json)
    elif origin is list:
        if not isinstance(value, list):
            raise _empty(param) if value == "" else Invalid("Invalid array", param)
        (item_type,) = typing.get_args(tp) or (Any,)
        for index, item in enumerate(value):
            check(item_type, item, _join(param, index, json), json=json)
    elif tp is Any or tp is object:
        return
    elif json:
        _check_json_scalar(tp, value, param)
    else:
        _check_scalar(tp, value, param)


def _check_hash(params_type: type, value: Any, param: str, *, json: bool = False) -> None:
    if not isinstance(value, dict):
        raise _empty(param) if value == "" else Invalid("Invalid object", param)
    known, required = fields(params_type)
    for key, item in value.items():
        name = _join(param, key, json)
        if key not in known:
            raise Invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")
        check(known[key], item, name, json=json)
    for key in sorted(required - set(value)):
        name = _join(param, key, json)
        raise Invalid(f"Missing required param: {name}.", name, "parameter_missing")


def problem(params_type: type, params: dict[str, Any], *, json: bool = False) -> Response | None:
    """Stripe's answer to ``params`` for an endpoint taking ``params_type``, if it refuses them.

    ``json``: a ``/v2`` JSON body, answered with a v2 error body.
    """
    try:
        _check_hash(params_type, params, "", json=json)
    except Invalid as exc:
        return exc.response(json=json)
    return None


Endpoint = Callable[..., Response]


def _validated(params_type: type) -> Callable[[Endpoint], Endpoint]:
    """Check the endpoint's parameters (form for POST, query otherwise) before it runs."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        def run(state: Any, request: RecordedRequest, **groups: str) -> Response:
            params = request.form if request.method == "POST" else request.query
            return problem(params_type, params) or endpoint(state, request, **groups)

        return run

    return decorate
