"""Helpers the benches share (no side effects on import: each bench sets its own environment first).

Benches run as `python bench/bench_<name>.py`, so this folder is on the path."""

from __future__ import annotations


def django_setup() -> None:
    """django.setup(), with channels_redis's per-message INFO logs quiet (a fan-out bench makes
    thousands of "channel full" lines)."""
    import logging

    import django

    django.setup()
    logging.getLogger("channels_redis").setLevel(logging.WARNING)


def pct(values: list[float], p: float) -> float:
    """The p-quantile (0..1) of `values`, linearly interpolated."""
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
