"""Which events Stripe sends for a change of an account: one builder per kind of account.

`forwarding.Forwarder` finds what changed (an `AccountChange`: the account
before and after) and asks the builder of the account's kind for the events:

* a v1 account (``object: "account"``): snapshot events, each carrying the
  account as the change left it: ``account.updated`` (with
  ``previous_attributes``), ``capability.updated`` per capability whose
  status changed, ``account.application.deauthorized`` when the platform
  lost access;
* an Accounts v2 account (``object: "v2.core.account"``): thin events, which
  only name the account (the app fetches it):
  ``v2.core.account[requirements].updated``,
  ``v2.core.account[configuration.<recipient|merchant>].capability_status_updated``
  per capability whose status changed (``data.updated_capability``),
  ``...[configuration.<name>].updated``, ``...[identity].updated``,
  ``...[defaults].updated``, ``v2.core.account.updated`` for the rest, and
  ``v2.core.account.closed``.

A kind without a builder in `EVENT_BUILDERS` is not forwarded.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import objects_v2

if TYPE_CHECKING:
    from .fake import FakeStripe


@dataclass(frozen=True)
class AccountChange:
    """What one look found for one account: ``previous`` and ``current`` copies."""

    account_id: str
    previous: dict[str, Any]
    current: dict[str, Any]
    deauthorized: bool = False  # the platform lost access since the last look

    def changed(self) -> list[str]:
        """The top-level fields whose value changed."""
        before, after = self.previous, self.current
        return sorted(k for k in after.keys() | before.keys() if after.get(k) != before.get(k))


#: Builds the events for a change: ``builder(fake, change) -> [event, ...]``.
Builder = Callable[["FakeStripe", AccountChange], list[dict[str, Any]]]


def account_kind(account: dict[str, Any]) -> str:
    """``"v2"`` for an Accounts v2 object, ``"v1"`` for the classic Account."""
    return "v2" if account.get("object") == objects_v2.V2_OBJECT else "v1"


def snapshot_events(fake: FakeStripe, change: AccountChange) -> list[dict[str, Any]]:
    """The snapshot (v1) events for ``change``, in the order Stripe sends them."""
    acct, before, after = change.account_id, change.previous, change.current
    built: list[dict[str, Any]] = []
    if change.deauthorized:
        built.append(fake.build_event("account.application.deauthorized", account=acct))
    changed = change.changed()
    if changed:
        built.append(fake.build_event(
            "account.updated", account=acct,
            previous_attributes={key: copy.deepcopy(before.get(key)) for key in changed},
        ))
    old_caps, new_caps = before.get("capabilities") or {}, after.get("capabilities") or {}
    for name in sorted(new_caps):
        if new_caps[name] != old_caps.get(name):
            built.append(fake.build_event(
                "capability.updated", account=acct, capability=name,
                previous_attributes={"status": old_caps.get(name)},
            ))
    return built


#: Parts of a v2 account with thin events of their own.
_PARTS = ("requirements", "identity", "defaults")
_CONFIGURATIONS = ("recipient", "merchant")
_THIN = "v2.core.account"


def _statuses(account: dict[str, Any], config: str) -> dict[str, Any]:
    found = (account.get("configuration") or {}).get(config) or {}
    return {name: cap.get("status")
            for name, cap in objects_v2.walk(found.get("capabilities") or {})}


def thin_events(fake: FakeStripe, change: AccountChange) -> list[dict[str, Any]]:
    """The thin (v2) events for ``change``: they name the account, not its data."""
    acct, before, after = change.account_id, change.previous, change.current
    types: list[tuple[str, str | None]] = []
    changed = set(change.changed())
    for part in _PARTS:
        if part in changed:
            types.append((f"{_THIN}[{part}].updated", None))
    for config in _CONFIGURATIONS:
        old, new = _statuses(before, config), _statuses(after, config)
        moved = [name for name in sorted(new) if new[name] != old.get(name)]
        types += [(f"{_THIN}[configuration.{config}].capability_status_updated", name)
                  for name in moved]
        config_before = (before.get("configuration") or {}).get(config)
        config_after = (after.get("configuration") or {}).get(config)
        if config_before != config_after and not moved:
            types.append((f"{_THIN}[configuration.{config}].updated", None))
    rest = changed - {*_PARTS, "configuration", "closed"}
    if rest or ("configuration" in changed and not types):
        types.append((f"{_THIN}.updated", None))
    if after.get("closed") and not before.get("closed"):
        types.append((f"{_THIN}.closed", None))
    return [fake.build_thin_event(type_, account=acct, capability=capability)
            for type_, capability in types]


#: Event builders per `account_kind`.
EVENT_BUILDERS: dict[str, Builder] = {"v1": snapshot_events, "v2": thin_events}
