"""Coalesced pushes: many updates of a state, sent to one group as one batched event per interval.

For state that changes faster than anyone can look at it, where only the latest value of each key
matters (a technician's position: 40 a second from a fleet of 200, to every office socket). Sent one
by one, each update is one channel-layer message, one msgpack decode, one consumer dispatch and one
WebSocket frame PER SOCKET of the group; batched, a socket receives at most one frame per interval
from each server process, whatever the number of keys.

`put(key, item)` keeps the item in this process, replacing any pending item of the same key (latest
wins). A flusher thread of the process sends everything pending as ONE catalogue event
(`{"<items_key>": [item, ...]}`) when the last send is at least `interval()` seconds old: at once
when the buffer was idle (a lone update is not delayed), otherwise at the end of the interval. So a
socket of the group receives at most one frame per interval per process, and an update reaches it
within one interval plus the delivery. The thread, not the caller, talks to Redis: under daphne the
callers are the socket lanes' threads and a request's commit hooks, which never wait for a send.

`put(..., urgent=True)` (a change a person made and expects to see now, e.g. private mode) and an
interval of 0 send at once on the caller's thread, with whatever else is pending. Sends are
serialised, so items leave in the order they were taken out of the buffer. `prepare(items)`, run
just before a send, may drop items that went stale meanwhile (another process may have recorded a
change that supersedes them). A forked child starts empty; pending items are sent at exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from hvaccrm.realtime import events

logger = logging.getLogger(__name__)

Item = dict[str, Any]


class CoalescingPush:
    def __init__(
        self,
        *,
        event_type: str,
        group: str,
        items_key: str,
        interval: Callable[[], float],
        row_id: Callable[[list[Item]], int],
        prepare: Callable[[list[Item]], list[Item]] | None = None,
    ) -> None:
        self.event_type, self.group, self.items_key = event_type, group, items_key
        self.interval, self.row_id, self.prepare = interval, row_id, prepare
        self.sent_events = 0  # batches sent by this process (tests, benches)
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self.flush)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._send_lock = threading.Lock()  # one send at a time: batches leave in the order taken
        self._pending: dict[Hashable, Item] = {}
        self._last_send = float("-inf")
        self._thread: threading.Thread | None = None

    def reset(self) -> None:
        """Forget pending items and when the last batch left (between tests)."""
        with self._lock:
            self._pending.clear()
            self._last_send = float("-inf")
            self._wake.notify()  # a flusher asleep on the old interval recomputes its wait

    def put(self, key: Hashable, item: Item, *, urgent: bool = False) -> None:
        """Keep `item` as the latest of `key`; it is sent within one interval (at once if urgent)."""
        at_once = urgent or self.interval() <= 0
        with self._lock:
            self._pending.pop(key, None)  # re-inserted: the batch lists keys by their last update
            self._pending[key] = item
            if not at_once:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=f"coalesce-{self.event_type}", daemon=True)
                    self._thread.start()
                self._wake.notify()
        if at_once:
            self.flush()

    def pending(self) -> list[Item]:
        with self._lock:
            return list(self._pending.values())

    def flush(self) -> int:
        """Send everything pending now as one event; returns the number of items sent."""
        with self._send_lock:
            with self._lock:
                items, self._pending = list(self._pending.values()), {}
                self._last_send = time.monotonic()
            if self.prepare is not None and items:
                items = self.prepare(items)
            if not items:
                return 0
            event = events.make_event(self.event_type, row_id=self.row_id(items), data={self.items_key: items})
            events.send_now([self.group], event)
            self.sent_events += 1
            return len(items)

    def _run(self) -> None:
        while True:
            with self._lock:
                while True:
                    wait = None
                    if self._pending:
                        wait = self._last_send + self.interval() - time.monotonic()
                        if wait <= 0:
                            break
                    self._wake.wait(wait)
            try:
                self.flush()
            except Exception:  # Redis down: these items are lost (the map re-fetches on reconnect)
                logger.warning("coalesced %s push failed", self.event_type, exc_info=True)
