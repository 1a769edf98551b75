"""Forwarding: every change the fake makes to an account reaches a webhook URL.

The habit of ``stripe listen --forward-to``: with ``--forward-to URL`` (or
``fake.forward_to(url)``), each change of an account, whoever made it (the
hosted onboarding page, an API call of the app, the control page, a test's
``fake.require_verification``), is POSTed to that URL as the events Stripe
would send (`forwarded_events`: snapshot events for v1 accounts, thin events
for v2 ones), signed with the fake's webhook secret. A new account sends
nothing (the app reads it when it creates or connects it), nor does one
deleted through the API.

How changes are seen: `watched_lock.WatchedLock` calls `Forwarder.notice`
when the state's lock is let go, with the lock still held. It compares each
account with the copy kept at the last look, and builds the events there, so
each shows the account as that change left it. Posting is done by one
background thread, in order, never under the lock (the app's webhook may
call the fake back while it handles the event); a delivery that fails is
tried again a few times, then recorded and logged: it never breaks the fake.
"""

from __future__ import annotations

import collections
import copy
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import events
from .forwarded_events import EVENT_BUILDERS, AccountChange, account_kind

if TYPE_CHECKING:
    from .fake import FakeStripe

logger = logging.getLogger("django_stripe_express.testing")

#: Deliveries kept for the control page and tests (the oldest are dropped).
KEPT = 200


@dataclass
class Forwarded:
    """One event's delivery: where, the answer (or the error), how many tries."""

    event_id: str
    type: str
    account: str
    url: str
    status_code: int | None = None
    error: str = ""
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
            "attempts": self.attempts, "done": self.done, "at": self.at,
        }


class Forwarder:
    """Watches one fake's accounts and posts the events to ``url``, from a thread."""

    def __init__(self, fake: FakeStripe) -> None:
        self.fake = fake
        self.url: str | None = None
        self.retries = 2
        self.backoff = 0.5  # seconds before the first retry, doubled after
        self.timeout = 10.0
        self._deliveries: collections.deque[Forwarded] = collections.deque(maxlen=KEPT)
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
        state = self.fake.state
        with state.lock:
            self._look(build=False)  # what exists now is the starting point
            state.lock.watcher = self.notice
        self._start_thread()

    def stop(self) -> None:
        """Stop watching and sending: queued events are dropped, no retry is made,
        the delivery in flight ends with its answer (or its timeout)."""
        state = self.fake.state
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
        return self.fake.state.lock.watcher == self.notice

    @property
    def deliveries(self) -> list[Forwarded]:
        """The latest deliveries, oldest first (at most `KEPT`)."""
        with self._deliveries_lock:
            return list(self._deliveries)

    def forget(self) -> None:
        with self._deliveries_lock:
            self._deliveries.clear()

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._work, name=f"fake-stripe-forwarder-{self.fake.port}", daemon=True
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
        state = self.fake.state
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
        kind = account_kind(change.current)
        builder = EVENT_BUILDERS.get(kind)
        if builder is None:
            if kind not in self._unknown_kinds:
                self._unknown_kinds.add(kind)
                logger.warning("fake Stripe: no events to forward for %s accounts", kind)
            return []
        return builder(self.fake, change)

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
        record = Forwarded(event["id"], event.get("type", ""), str(account), url)
        with self._deliveries_lock:
            self._deliveries.append(record)
        delay = self.backoff
        while True:
            record.attempts += 1
            payload, header = self.fake.signed(event)
            try:
                answer = events.post_to_url(url, payload, header, timeout=self.timeout)
                record.status_code, record.error = answer.status_code, ""
                detail = answer.content[:200].decode(errors="replace")
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
