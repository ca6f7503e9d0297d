"""The classifier's decisions counted per process, written to the metrics in batches.

A Redis round trip per decision was 9 % of a one-text call (docs/triage.md, "Speed"). Decisions are
counted in memory and written (`metrics.counter_inc`, one increment per urgency) when
`FLUSH_EVERY` are pending, at the latest `FLUSH_SECONDS` after the first pending one (a timer
thread, so an idle process does not sit on its counts), and at interpreter exit. A forked child
starts empty: the counts pending at the fork are the parent's, which writes them. Under the test
settings (TESTING) the process's counter writes each decision at once, so no count made in one
test lands in another's; tests of the batching make their own DecisionCounter.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import Counter

from django.conf import settings

from hvaccrm import metrics

FLUSH_EVERY = 256
FLUSH_SECONDS = 1.0
FAMILY = "hvaccrm_classifier_decisions"


class DecisionCounter:
    def __init__(self, *, every: int | None = None, seconds: float = FLUSH_SECONDS) -> None:
        self.every, self.seconds = every, seconds  # every None: FLUSH_EVERY, 1 under TESTING
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._pending = 0
        self._timer: threading.Timer | None = None

    def add(self, urgency: str) -> None:
        if self.every is None:
            self.every = 1 if getattr(settings, "TESTING", False) else FLUSH_EVERY
        with self._lock:
            self._counts[urgency] += 1
            self._pending += 1
            due = self._pending >= self.every
            if not due and self._timer is None:
                self._timer = threading.Timer(self.seconds, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.flush()

    def pending(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def flush(self) -> None:
        """Write the pending counts (a Redis error drops them, as an unbatched count would be)."""
        with self._lock:
            counts, self._counts, self._pending = self._counts, Counter(), 0
            timer, self._timer = self._timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        for urgency, n in sorted(counts.items()):
            metrics.counter_inc(FAMILY, n, urgency=urgency)


decisions = DecisionCounter()
atexit.register(decisions.flush)
os.register_at_fork(after_in_child=decisions._reset)

