"""Webhook events: signing, delivery, and forwarding every change of an account.

Signing: Stripe signs ``f"{timestamp}.{payload}"`` with HMAC-SHA256 under the
endpoint's secret and sends ``Stripe-Signature: t=<timestamp>,v1=<hex>``.
Tests of a webhook view need byte-identical payloads and headers, so these
helpers work on the exact string that is posted.

Forwarding, the habit of ``stripe listen --forward-to``: with ``--forward-to URL`` (or
``fake.forward_to(url)``), each change of an account, whoever made it (the
hosted onboarding page, an API call of the app, the control page, a test's
``fake.require_verification``), is POSTed to that URL as the events Stripe
would send (`EVENT_BUILDERS`: snapshot events for v1 accounts, thin events
for v2 ones), signed with the fake's webhook secret. A new account sends
nothing (the app reads it when it creates or connects it), nor does one
deleted through the API.

How changes are seen: `state._WatchedLock` calls `_Forwarder.notice`
when the state's lock is let go, with the lock still held. It compares each
account with the copy kept at the last look, and builds the events there, so
each shows the account as that change left it. Posting is done by one
background thread, in order, never under the lock (the app's webhook may
call the fake back while it handles the event); a delivery that fails is
tried again a few times, then recorded and logged: it never breaks the fake.

Which events a change makes, per kind of account: `_Forwarder` finds what
changed (an `AccountChange`: the account before and after) and asks the
builder of the account's kind for the events:

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

import collections
import copy
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import objects_v2
from .state import _State


def sign_payload(payload: str, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.{payload}"``: Stripe's ``v1`` signature."""
    message = f"{timestamp}.{payload}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``: ``t=...,v1=...``."""
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={stamp},v1={sign_payload(payload, secret, stamp)}"


def _to_payload(event_or_payload: dict[str, Any] | str | bytes) -> str:
    """The exact string that gets signed and posted."""
    if isinstance(event_or_payload, bytes):
        return event_or_payload.decode()
    if isinstance(event_or_payload, str):
        return event_or_payload
    return json.dumps(event_or_payload, indent=2)


@dataclass
class Delivery:
    """The answer of a webhook endpoint reached over HTTP."""

    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.status_code


def _post_to_url(url: str, payload: str, header: str, timeout: float = 10) -> Delivery:
    """POST like Stripe's webhook sender; HTTP errors are returned, not raised."""
    request = urllib.request.Request(
        url,
        data=payload.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": header,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Delivery(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Delivery(error.code, error.read(), dict(error.headers))


def signed(
    state: _State,
    event_or_payload: dict[str, Any] | str | bytes,
    secret: str | None = None,
    timestamp: int | None = None,
) -> tuple[str, str]:
    """``(payload, Stripe-Signature header)`` as Stripe would deliver them."""
    payload = _to_payload(event_or_payload)
    return payload, signature_header(payload, secret or state.webhook_secret, timestamp)


# -- which events a change makes -------------------------------------------------


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


#: Builds the events for a change: ``builder(state, change) -> [event, ...]``.
_Builder = Callable[[_State, AccountChange], list[dict[str, Any]]]


def _account_kind(account: dict[str, Any]) -> str:
    """``"v2"`` for an Accounts v2 object, ``"v1"`` for the classic Account."""
    return "v2" if account.get("object") == objects_v2.V2_OBJECT else "v1"


def _snapshot_events(state: _State, change: AccountChange) -> list[dict[str, Any]]:
    """The snapshot (v1) events for ``change``, in the order Stripe sends them."""
    acct, before, after = change.account_id, change.previous, change.current
    built: list[dict[str, Any]] = []
    if change.deauthorized:
        built.append(state.build_event("account.application.deauthorized", account=acct))
    changed = change.changed()
    if changed:
        built.append(state.build_event(
            "account.updated", account=acct,
            previous_attributes={key: copy.deepcopy(before.get(key)) for key in changed},
        ))
    old_caps, new_caps = before.get("capabilities") or {}, after.get("capabilities") or {}
    for name in sorted(new_caps):
        if new_caps[name] != old_caps.get(name):
            built.append(state.build_event(
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


def thin_events(state: _State, change: AccountChange) -> list[dict[str, Any]]:
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
    return [state.build_thin_event(type_, account=acct, capability=capability)
            for type_, capability in types]


#: Event builders per `account_kind`.
EVENT_BUILDERS: dict[str, _Builder] = {"v1": _snapshot_events, "v2": thin_events}


# -- forwarding -------------------------------------------------------------------


logger = logging.getLogger("django_stripe_express.testing")

#: Deliveries kept for the control page and tests (the oldest are dropped).
_KEPT = 200


@dataclass
class _Forwarded:
    """One event's delivery: where, the answer (or the error), how many tries."""

    event_id: str
    type: str
    account: str
    url: str
    status_code: int | None = None
    error: str = ""
    # The webhook's answer text (the app's: "processed", "ignored: <why>", ...).
    answer: str = ""
    attempts: int = 0
    done: bool = False  # answered, or given up after the retries
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event_id, "type": self.type, "account": self.account,
            "url": self.url, "status_code": self.status_code, "error": self.error,
            "answer": self.answer, "attempts": self.attempts, "done": self.done, "at": self.at,
        }


class _Forwarder:
    """Watches one fake's accounts and posts the events to ``url``, from a thread."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.url: str | None = None
        self.retries = 2
        self.backoff = 0.5  # seconds before the first retry, doubled after
        self.timeout = 10.0
        self._deliveries: collections.deque[_Forwarded] = collections.deque(maxlen=_KEPT)
        self._deliveries_lock = threading.Lock()  # the control page reads them meanwhile
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._deauthorized: set[str] = set()
        self._unknown_kinds: set[str] = set()
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # cuts a retry's wait short

    # -- on and off ------------------------------------------------------------

    def start(self, url: str, *, retries: int = 2, backoff: float = 0.5) -> None:
        """Forward every later change to ``url`` (the webhook's full URL)."""
        self.stop()
        self.url, self.retries, self.backoff = url, retries, backoff
        state = self.state
        with state.lock:
            self._look(build=False)  # what exists now is the starting point
            state.lock.watcher = self.notice
        self._start_thread()

    def stop(self) -> None:
        """Stop watching and sending: queued events are dropped, no retry is made,
        the delivery in flight ends with its answer (or its timeout)."""
        state = self.state
        with state.lock:
            if state.lock.watcher == self.notice:
                state.lock.watcher = None
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
                self._queue.task_done()
            self._queue.put(None)
            thread.join(timeout=self.timeout + 5)
            self._stopping.clear()
        self.url = None

    @property
    def watching(self) -> bool:
        return self.state.lock.watcher == self.notice

    @property
    def deliveries(self) -> list[_Forwarded]:
        """The latest deliveries, oldest first (at most `KEPT`)."""
        with self._deliveries_lock:
            return list(self._deliveries)

    def forget(self) -> None:
        with self._deliveries_lock:
            self._deliveries.clear()

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._work, name=f"fake-stripe-forwarder-{self.state.port}", daemon=True
            )
            self._thread.start()

    def wait(self, timeout: float = 10) -> bool:
        """Whether every queued event was delivered (or given up) within ``timeout``."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- watching (called with the state's lock held) -----------------------------

    def notice(self) -> None:
        """The lock is being let go: queue the events for what changed since the last look."""
        try:
            self._look(build=True)
        except Exception:  # the fake must keep answering whatever happens here
            logger.exception("fake Stripe: could not build the events to forward")

    def _look(self, *, build: bool) -> None:
        state = self.state
        accounts, gone = state.accounts, state.deauthorized
        for acct_id in list(self._snapshots):
            if acct_id not in accounts:  # deleted, or the fake was reset
                del self._snapshots[acct_id]
        self._deauthorized &= gone
        for acct_id, account in list(accounts.items()):
            previous = self._snapshots.get(acct_id)
            newly_gone = acct_id in gone and acct_id not in self._deauthorized
            if previous is not None and previous == account and not newly_gone:
                continue
            current = copy.deepcopy(account)
            self._snapshots[acct_id] = current
            if newly_gone:
                self._deauthorized.add(acct_id)
            if build and previous is not None:
                change = AccountChange(acct_id, previous, current, newly_gone)
                for event in self._events_for(change):
                    self.send(event)

    def _events_for(self, change: AccountChange) -> list[dict[str, Any]]:
        kind = _account_kind(change.current)
        builder = EVENT_BUILDERS.get(kind)
        if builder is None:
            if kind not in self._unknown_kinds:
                self._unknown_kinds.add(kind)
                logger.warning("fake Stripe: no events to forward for %s accounts", kind)
            return []
        return builder(self.state, change)

    # -- delivering (the thread) ------------------------------------------------------

    def send(self, event: dict[str, Any], url: str | None = None) -> str | None:
        """Queue ``event`` for ``url`` (default: the forwarding URL); the URL, or None."""
        target = url or self.url
        if not target:
            return None
        self._start_thread()
        self._queue.put((target, event))
        return target

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(*item)
            except Exception:  # never let one delivery end the thread
                logger.exception("fake Stripe: forwarding failed")
            finally:
                self._queue.task_done()

    def _deliver(self, url: str, event: dict[str, Any]) -> None:
        # A snapshot event names its account on top, a thin one in `related_object`.
        account = event.get("account") or (event.get("related_object") or {}).get("id") or ""
        record = _Forwarded(event["id"], event.get("type", ""), str(account), url)
        with self._deliveries_lock:
            self._deliveries.append(record)
        delay = self.backoff
        while True:
            record.attempts += 1
            payload, header = signed(self.state, event)
            try:
                answer = _post_to_url(url, payload, header, timeout=self.timeout)
                record.status_code, record.error = answer.status_code, ""
                detail = answer.content[:200].decode(errors="replace")
                record.answer = detail.strip()
            except OSError as exc:  # refused, reset, timed out
                record.status_code, record.error = None, f"{type(exc).__name__}: {exc}"
                detail = record.error
            retry = not record.ok and (record.status_code is None or record.status_code >= 500)
            if not retry or record.attempts > self.retries or self._stopping.wait(delay):
                break
            delay *= 2
        record.done = True
        level = logging.INFO if record.ok else logging.WARNING
        logger.log(
            level, "fake Stripe: %s %s [%s] -> %s: %s %s", record.type, record.event_id,
            record.account or "-", url, record.status_code or "no answer", detail.strip(),
        )


def trigger(
    state: _State,
    type: str,
    *,
    account: str,
    capability: str | None = None,
    url: str | None = None,
) -> tuple[dict[str, Any], str | None]:
    """Build ``type`` for ``account`` from the fake's state and send it now.

    A snapshot event (`build_event`), or a thin one for a ``v2.`` type
    (`build_thin_event`). To ``url``, or to the forwarding URL;
    ``(event, where it went)``, where is None when there is nowhere to send it.
    """
    if type.startswith("v2."):
        event = state.build_thin_event(type, account=account, capability=capability)
    else:
        event = state.build_event(type, account=account, capability=capability)
    return event, state.forwarder.send(event, url)
