"""The classifier's decisions counted per process, written to the metrics in batches.

A Redis round trip per decision was 9 % of a one-text call (docs/triage.md, "Speed"). The counts
wait in memory (`hvaccrm.metrics_buffer.CounterBuffer`: written every 256 decisions, at the latest
1 s after the first pending one, and at interpreter exit; a forked child starts empty; under the
test settings each decision is written at once).
"""

from __future__ import annotations

from hvaccrm.metrics_buffer import CounterBuffer

FAMILY = "hvaccrm_classifier_decisions"

decisions = CounterBuffer()


def decision_counted(urgency: str) -> None:
    decisions.add(FAMILY, urgency=urgency)
