"""The state's lock, which lets a watcher look at the state after every change.

Every change to the fake's state is made holding ``FakeState.lock``: the
HTTP endpoints, the hosted pages, the control page and the helpers tests call.
So the moment the outermost holder lets go is the moment a change is complete
and consistent; `forwarding.Forwarder` looks then (``watcher``), and sees
every change, whichever code made it, including code added later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class WatchedLock:
    """A re-entrant lock that calls ``watcher()`` just before its outermost release.

    The watcher runs with the lock still held, so what it reads is what the
    change left; it must be quick and must not wait for anything else (it may
    take the lock again: that is re-entrant and calls no watcher).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # changed only by the thread holding the lock
        self.watcher: Callable[[], None] | None = None

    def __enter__(self) -> WatchedLock:
        self._lock.acquire()
        self._depth += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._depth == 1 and self.watcher is not None:
                self.watcher()
        finally:
            self._depth -= 1
            self._lock.release()
