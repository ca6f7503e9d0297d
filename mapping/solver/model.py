"""The solver's plain data: technicians, jobs, the plan it returns and travel times by hour."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MAX_TIME = 2**31 - 1
DAY_S = 86_400
DEFAULT_TIMEOUT_S = 5.0
# The search stops earlier once this many iterations in a row found nothing better (small days
# converge in well under a second; large ones use the whole time budget).
CONVERGED_ITERATIONS = 3_000
# Without that convergence stop (anytime search for the whole budget), a search this long without
# improvement restarts from PyVRP's own start with another seed; the better plan is kept.
STALL_ITERATIONS = 2_000
# Share of the time budget for the first search when travel depends on the hour: the rest is kept
# for re-planning the routes whose real times broke a window.
FIRST_PASS_SHARE = 0.8


@dataclass(frozen=True)
class Vehicle:
    id: int
    start: int | None  # matrix index
    end: int | None
    shift: tuple[int, int] = (0, MAX_TIME)
    skills: frozenset[str] = frozenset()
    max_jobs: int | None = None
    capacity: tuple[int, ...] = ()


@dataclass(frozen=True)
class Job:
    id: int
    location: int
    service: int = 0
    windows: tuple[tuple[int, int], ...] = ()
    skills: frozenset[str] = frozenset()
    priority: int = 0  # 0..100, higher first when not everything fits
    demand: tuple[int, ...] = ()


@dataclass(frozen=True)
class Stop:
    job: int
    arrival: int
    start: int  # service begins (after waiting for the window)
    end: int
    travel: int  # from the previous point


@dataclass
class RoutePlan:
    vehicle: int
    stops: list[Stop] = field(default_factory=list)
    start: int = 0  # leaves the start point
    end: int = 0  # reaches the end point
    travel: int = 0


@dataclass
class Solution:
    routes: list[RoutePlan]
    unassigned: dict[int, str]  # job id -> reason
    travel: int

    def as_dict(self) -> dict:
        return {
            "routes": [
                {"vehicle": r.vehicle, "start": r.start, "end": r.end, "travel": r.travel,
                 "stops": [s.__dict__ for s in r.stops]}
                for r in self.routes
            ],
            "unassigned": [{"job": j, "reason": why} for j, why in sorted(self.unassigned.items())],
            "travel": self.travel,
        }


class SolverInputError(ValueError):
    pass


@dataclass(frozen=True)
class TimeBands:
    """Travel times by hour of the day: `matrices[k]` holds for departures from `starts[k]` seconds
    after midnight until the next start (times past a day wrap around). One band is a plain matrix."""

    starts: tuple[int, ...]
    matrices: tuple[np.ndarray, ...]
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.starts or self.starts[0] != 0 or list(self.starts) != sorted(set(self.starts)):
            raise SolverInputError("time bands must start at 0 and increase")
        if len(self.matrices) != len(self.starts):
            raise SolverInputError("one matrix per time band")
        n = self.matrices[0].shape[0]
        if any(m.ndim != 2 or m.shape != (n, n) for m in self.matrices):
            raise SolverInputError("the travel matrices must be square and of one size")

    @property
    def size(self) -> int:
        return int(self.matrices[0].shape[0])

    def band(self, t: int) -> int:
        return bisect.bisect_right(self.starts, int(t) % DAY_S) - 1

    def leg(self, i: int | None, j: int | None, t: int) -> int:
        if i is None or j is None:
            return 0
        return int(self.matrices[self.band(t)][i, j])

    def mean(self, a: int, b: int) -> np.ndarray:
        """Edge by edge, the bands' travel times weighted by how long each lasts between a and b."""
        if b <= a:
            return self.matrices[self.band(a)].copy()
        weights = np.zeros(len(self.starts))
        t = a
        while t < b:
            k = self.band(t)
            day = t - t % DAY_S
            nxt = day + (self.starts[k + 1] if k + 1 < len(self.starts) else DAY_S)
            weights[k] += min(b, nxt) - t
            t = min(b, nxt)
        total = sum(w * self.matrices[k].astype(np.float64) for k, w in enumerate(weights) if w)
        return np.rint(total / weights.sum()).astype(np.int64)

    def slowest(self, a: int, b: int) -> np.ndarray:
        """Edge by edge, the slowest of the bands that departures between a and b meet."""
        met = {self.band(a)}
        if b - a >= DAY_S:
            met = set(range(len(self.starts)))
        else:
            for day in range(a // DAY_S, b // DAY_S + 1):
                met |= {k for k, s in enumerate(self.starts) if a <= day * DAY_S + s <= b}
        return np.maximum.reduce([self.matrices[k] for k in sorted(met)])


def as_bands(matrix: TimeBands | np.ndarray | Sequence[Sequence[int]]) -> TimeBands:
    if isinstance(matrix, TimeBands):
        return matrix
    try:
        arr = np.asarray(matrix, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise SolverInputError("the duration matrix must be square") from exc
    if arr.size == 0:
        arr = np.zeros((0, 0), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise SolverInputError("the duration matrix must be square")
    return TimeBands(starts=(0,), matrices=(arr,))
