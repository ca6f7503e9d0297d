"""Feasibility and timing with the real (hour-dependent) travel times: who can serve a job, why a job
was left out, and a route timed stop by stop."""

from __future__ import annotations

from collections.abc import Sequence

from mapping.solver.model import MAX_TIME, Job, RoutePlan, SolverInputError, Stop, TimeBands, Vehicle, as_bands

__all__ = ["explain_unassigned", "schedule"]


def _check(vehicles: Sequence[Vehicle], jobs: Sequence[Job], matrix) -> TimeBands:
    tt = as_bands(matrix)
    n = tt.size
    for v in vehicles:
        for loc in (v.start, v.end):
            if loc is not None and not 0 <= loc < n:
                raise SolverInputError(f"vehicle {v.id}: location {loc} outside the matrix")
    ids = set()
    for j in jobs:
        if not 0 <= j.location < n:
            raise SolverInputError(f"job {j.id}: location {j.location} outside the matrix")
        if j.id in ids:
            raise SolverInputError(f"job {j.id} appears twice")
        ids.add(j.id)
    return tt


def _has_shift(v: Vehicle) -> bool:
    return v.shift[1] > v.shift[0]


def _fits_capacity(demand: tuple[int, ...], capacity: tuple[int, ...]) -> bool:
    return all(d <= (capacity[i] if i < len(capacity) else MAX_TIME) for i, d in enumerate(demand))


def _first_start(windows, arrival: int) -> int | None:
    """When service can begin for an arrival: the first window that is still open, or None."""
    for a, b in windows or ((0, MAX_TIME),):
        if arrival <= b:
            return max(arrival, a)
    return None


def _reachable_alone(job: Job, v: Vehicle, tt: TimeBands) -> bool:
    """Could the vehicle serve only this job within the job's window and its own shift?"""
    depart = v.shift[0]
    for a, b in job.windows or ((0, MAX_TIME),):
        # Leave as late as the window allows, or at the start of the shift.
        go = max(depart, a - tt.leg(v.start, job.location, a))
        start = max(go + tt.leg(v.start, job.location, go), a)
        if start <= b and start + job.service + tt.leg(job.location, v.end, start + job.service) <= v.shift[1]:
            return True
    return False


def _can_serve(v: Vehicle, job: Job, tt: TimeBands) -> bool:
    return (_has_shift(v) and (v.max_jobs is None or v.max_jobs > 0) and job.skills <= v.skills
            and _fits_capacity(job.demand, v.capacity) and _reachable_alone(job, v, tt))


def explain_unassigned(job: Job, vehicles: Sequence[Vehicle], matrix) -> str:
    """Why a job could not be placed, checked in the order a dispatcher would fix it."""
    tt = as_bands(matrix)
    working = [v for v in vehicles if _has_shift(v)]
    if not working:
        return "no_technician"
    if not _clean_windows(job.windows) and job.windows:
        return "time_window"
    skilled = [v for v in working if job.skills <= v.skills]
    if not skilled:
        return "skills"
    able = [v for v in skilled if _fits_capacity(job.demand, v.capacity)]
    if not able:
        return "capacity"
    for v in able:
        if _reachable_alone(job, v, tt):
            return "route_full"
    return "time_window"


def _clean_windows(windows: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Windows that open before they close, sorted; () stays () (any time)."""
    return tuple(sorted((int(a), int(b)) for a, b in windows if a <= b))


def schedule(v: Vehicle, sequence: Sequence[Job], tt: TimeBands) -> tuple[RoutePlan, list[Job]]:
    """Time a route with the real (hour-dependent) travel times; stops that would break a window,
    the shift, the job limit or a capacity are dropped and returned. The technician leaves as late
    as lets them reach the first job without waiting."""
    kept: list[Job] = []
    dropped: list[Job] = []
    load = [0] * max([len(v.capacity)] + [len(j.demand) for j in sequence])
    t, here = v.shift[0], v.start
    for j in sequence:
        if v.max_jobs is not None and len(kept) >= v.max_jobs:
            dropped.append(j)
            continue
        new_load = [load[i] + (j.demand[i] if i < len(j.demand) else 0) for i in range(len(load))]
        arrival = t + tt.leg(here, j.location, t)
        start = _first_start(j.windows, arrival)
        if (start is None or not _fits_capacity(tuple(new_load), v.capacity)
                or start + j.service + tt.leg(j.location, v.end, start + j.service) > v.shift[1]):
            dropped.append(j)
            continue
        kept.append(j)
        load, t, here = new_load, start + j.service, j.location
    # Returning late can only be mended by leaving jobs out, the last ones first.
    while kept:
        plan = _timed(v, kept, tt)
        if plan is not None:
            return plan, dropped
        dropped.append(kept.pop())
    return RoutePlan(vehicle=v.id, start=v.shift[0], end=v.shift[0]), dropped


def _timed(v: Vehicle, jobs: Sequence[Job], tt: TimeBands) -> RoutePlan | None:
    def run(depart: int) -> RoutePlan | None:
        plan = RoutePlan(vehicle=v.id, start=depart)
        t, here = depart, v.start
        for j in jobs:
            leg = tt.leg(here, j.location, t)
            start = _first_start(j.windows, t + leg)
            if start is None:
                return None
            plan.stops.append(Stop(job=j.id, arrival=t + leg, start=start, end=start + j.service, travel=leg))
            plan.travel += leg
            t, here = start + j.service, j.location
        back = tt.leg(here, v.end, t)
        plan.travel += back
        plan.end = t + back
        return plan if plan.end <= v.shift[1] else None

    plan = run(v.shift[0])
    if plan is None or not plan.stops:
        return plan
    first = plan.stops[0]
    wait = first.start - first.arrival
    if wait > 0:
        later = run(v.shift[0] + wait)
        if later is not None and later.stops[0].start == first.start and later.travel <= plan.travel:
            return later
    return plan
