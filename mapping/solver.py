"""The route solver core: plain data and a duration matrix in, plain data out. No Django here.

Vehicles (technicians) have a shift window, start/end points, skills, a maximum number of jobs and
capacities; jobs have a location, a service duration, time windows, required skills, a priority and
demands. VROOM (through pyvroom) does the search; this module only translates, explains why a job
was left out, and offers a nearest-neighbour heuristic as a baseline for the benchmarks.
All times are integers in the matrix's unit (seconds for the CRM, distance units for Solomon).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import vroom

MAX_TIME = 2**31 - 1


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


def _check(vehicles: Sequence[Vehicle], jobs: Sequence[Job], matrix: Sequence[Sequence[int]]) -> None:
    n = len(matrix)
    if any(len(row) != n for row in matrix):
        raise SolverInputError("the duration matrix must be square")
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


def solve(
    vehicles: Sequence[Vehicle],
    jobs: Sequence[Job],
    matrix: Sequence[Sequence[int]],
    *,
    exploration_level: int = 5,
    threads: int = 1,
    timeout_s: float | None = None,
) -> Solution:
    """Plan routes minimising travel; jobs that cannot be placed come back with a reason."""
    _check(vehicles, jobs, matrix)
    if not jobs:
        return Solution(routes=[], unassigned={}, travel=0)
    if not vehicles:
        return Solution(routes=[], unassigned={j.id: "no_technician" for j in jobs}, travel=0)
    skill_ids: dict[str, int] = {}

    def skill_set(names: frozenset[str]) -> set[int]:
        return {skill_ids.setdefault(s, len(skill_ids) + 1) for s in names}

    dims = max([len(v.capacity) for v in vehicles] + [len(j.demand) for j in jobs] + [0])
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=[[int(x) for x in row] for row in matrix])
    for v in vehicles:
        capacity = list(v.capacity) + [MAX_TIME] * (dims - len(v.capacity)) if dims else []
        kwargs = {}
        if v.max_jobs is not None:
            kwargs["max_tasks"] = int(v.max_jobs)
        problem.add_vehicle(vroom.Vehicle(
            int(v.id), start=v.start, end=v.end, capacity=capacity, skills=skill_set(v.skills),
            time_window=vroom.TimeWindow(int(v.shift[0]), int(v.shift[1])), **kwargs,
        ))
    vjobs = []
    for j in jobs:
        demand = list(j.demand) + [0] * (dims - len(j.demand)) if dims else []
        kwargs = {"delivery": demand} if dims else {}
        if j.windows:
            kwargs["time_windows"] = [vroom.TimeWindow(int(a), int(b)) for a, b in sorted(j.windows)]
        vjobs.append(vroom.Job(
            int(j.id), location=int(j.location), default_service=int(j.service), skills=skill_set(j.skills),
            priority=max(0, min(100, int(j.priority))), **kwargs,
        ))
    problem.add_job(vjobs)
    args = {"exploration_level": exploration_level, "nb_threads": threads}
    if timeout_s:
        args["timeout"] = timedelta(seconds=timeout_s)
    raw = problem.solve(**args).to_dict()
    return _from_vroom(raw, vehicles, jobs, matrix)


def _from_vroom(raw: dict, vehicles: Sequence[Vehicle], jobs: Sequence[Job], matrix) -> Solution:
    by_id = {j.id: j for j in jobs}
    routes: list[RoutePlan] = []
    total = 0
    for r in raw.get("routes", []):
        plan = RoutePlan(vehicle=r["vehicle"])
        prev_duration = 0  # VROOM's step "duration" is the cumulative travel time
        for step in r["steps"]:
            travel = step["duration"] - prev_duration
            prev_duration = step["duration"]
            if step["type"] == "start":
                plan.start = step["arrival"]
            elif step["type"] == "job":
                start = step["arrival"] + step["waiting_time"]
                plan.stops.append(Stop(job=step["id"], arrival=step["arrival"], start=start,
                                       end=start + step["service"], travel=travel))
            elif step["type"] == "end":
                plan.end = step["arrival"]
        plan.travel = r["duration"]
        total += plan.travel
        if plan.stops:
            routes.append(plan)
    left = [u["id"] for u in raw.get("unassigned", [])]
    unassigned = {jid: explain_unassigned(by_id[jid], vehicles, matrix) for jid in left}
    return Solution(routes=routes, unassigned=unassigned, travel=total)


def explain_unassigned(job: Job, vehicles: Sequence[Vehicle], matrix) -> str:
    """Why a job could not be placed, checked in the order a dispatcher would fix it."""
    if not vehicles:
        return "no_technician"
    skilled = [v for v in vehicles if job.skills <= v.skills]
    if not skilled:
        return "skills"
    able = [v for v in skilled if _fits_capacity(job.demand, v.capacity)]
    if not able:
        return "capacity"
    for v in able:
        if _reachable_alone(job, v, matrix):
            return "route_full"
    return "time_window"


def _fits_capacity(demand: tuple[int, ...], capacity: tuple[int, ...]) -> bool:
    return all(d <= (capacity[i] if i < len(capacity) else MAX_TIME) for i, d in enumerate(demand))


def _reachable_alone(job: Job, v: Vehicle, matrix) -> bool:
    """Could the vehicle serve only this job within the job's window and its own shift?"""
    to_job = matrix[v.start][job.location] if v.start is not None else 0
    back = matrix[job.location][v.end] if v.end is not None else 0
    arrival = v.shift[0] + to_job
    for a, b in job.windows or ((0, MAX_TIME),):
        start = max(arrival, a)
        if start <= b and start + job.service + back <= v.shift[1]:
            return True
    return False


def nearest_neighbour(vehicles: Sequence[Vehicle], jobs: Sequence[Job], matrix) -> Solution:
    """A baseline: each technician in turn drives to the nearest job it can still serve in time."""
    _check(vehicles, jobs, matrix)
    left = {j.id: j for j in sorted(jobs, key=lambda j: -j.priority)}
    routes: list[RoutePlan] = []
    total = 0
    for v in vehicles:
        plan = RoutePlan(vehicle=v.id, start=v.shift[0])
        time, here = v.shift[0], v.start
        load = [0] * max(len(v.capacity), max((len(j.demand) for j in jobs), default=0))
        while left and (v.max_jobs is None or len(plan.stops) < v.max_jobs):
            best = None
            for j in left.values():
                if not j.skills <= v.skills:
                    continue
                new_load = [load[i] + (j.demand[i] if i < len(j.demand) else 0) for i in range(len(load))]
                if not _fits_capacity(tuple(new_load), v.capacity):
                    continue
                travel = matrix[here][j.location] if here is not None else 0
                arrival = time + travel
                start = None
                for a, b in j.windows or ((0, MAX_TIME),):
                    if max(arrival, a) <= b:
                        start = max(arrival, a)
                        break
                if start is None:
                    continue
                back = matrix[j.location][v.end] if v.end is not None else 0
                if start + j.service + back > v.shift[1]:
                    continue
                key = (start - time, travel)
                if best is None or key < best[0]:
                    best = (key, j, travel, arrival, start, new_load)
            if best is None:
                break
            _, j, travel, arrival, start, load = best
            plan.stops.append(Stop(job=j.id, arrival=arrival, start=start, end=start + j.service, travel=travel))
            plan.travel += travel
            time, here = start + j.service, j.location
            del left[j.id]
        if plan.stops:
            back = matrix[here][v.end] if v.end is not None else 0
            plan.travel += back
            plan.end = time + back
            total += plan.travel
            routes.append(plan)
    unassigned = {jid: explain_unassigned(j, vehicles, matrix) for jid, j in left.items()}
    return Solution(routes=routes, unassigned=unassigned, travel=total)
