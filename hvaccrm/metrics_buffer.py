"""Counters kept in memory per process and written to the metrics in one pipelined round trip.

For counts on a hot path where a Redis round trip per event costs more than the work counted: the
classifier's decisions (9 % of a one-text call) and the frames a web process pushes to its sockets
(one blocking call per frame inside daphne's event loop, between the sockets' writes). Pending
counts are written when `every` are pending (on a thread of their own when asked, so an event loop
never waits for Redis), at the latest `seconds` after the first pending one (a timer thread, so an
idle process does not sit on its counts), and at interpreter exit. A forked child starts empty: the
counts pending at the fork are the parent's, which writes them. Under the test settings (TESTING)
every count is written at once, so no count made in one test lands in another's.

A Redis error drops the pending counts, as an unbuffered count would be dropped (`hvaccrm.metrics`).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import Counter

from django.conf import settings

logger = logging.getLogger("hvaccrm.metrics")


class CounterBuffer:
    def __init__(self, *, every: int | None = None, seconds: float = 1.0, flush_on_thread: bool = False) -> None:
        self.every, self.seconds, self.flush_on_thread = every, seconds, flush_on_thread
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self.flush)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple] = Counter()
        self._pending = 0
        self._timer: threading.Timer | None = None

    def _every(self) -> int:
        if self.every is not None:
            return self.every
        return 1 if getattr(settings, "TESTING", False) else 256

    def add(self, name: str, amount: float = 1, **labels: str) -> None:
        every = self._every()
        with self._lock:
            self._counts[(name, tuple(sorted(labels.items())))] += amount
            self._pending += 1
            due = self._pending >= every
            if not due and self._timer is None:
                self._timer = threading.Timer(self.seconds, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if due:
            if self.flush_on_thread and every > 1:
                threading.Thread(target=self.flush, name="metrics-flush", daemon=True).start()
            else:
                self.flush()

    def pending(self) -> dict[tuple, float]:
        with self._lock:
            return dict(self._counts)

    def flush(self) -> None:
        """Write the pending counts in one pipeline."""
        from hvaccrm import metrics

        with self._lock:
            counts, self._counts, self._pending = self._counts, Counter(), 0
            timer, self._timer = self._timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        if counts:
            metrics.counters_inc_many([(name, amount, dict(labels)) for (name, labels), amount in sorted(counts.items())])


# The web processes' socket pushes: never a Redis call on the event loop's own thread.
socket_pushes = CounterBuffer(flush_on_thread=True)
