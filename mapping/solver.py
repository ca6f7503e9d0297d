"""The route solver core: plain data and travel times in, plain data out. No Django here.

Vehicles (technicians) have a shift window, start/end points, skills, a maximum number of jobs and
capacities; jobs have a location, a service duration, time windows, required skills, a priority and
demands. PyVRP's iterated local search does the search; this module translates, removes first the
jobs nobody can do (with the reason), checks every answer against the real travel times and explains
why a job was left out. `nearest_neighbour` is a baseline for the benchmarks.

How the problem maps onto PyVRP (it has no skills, job limits or time-dependent travel):
- every job (every window of a job with several) is a client at its own location, so that edges into
  it can differ per technician; a job with several windows is a group of mutually exclusive clients;
- skills, certificates, pins to a technician and "cannot reach it alone within window and shift" make
  a job incompatible with a technician; each distinct set of compatible jobs (per hour band) is a
  routing profile whose edges into the incompatible jobs are longer than any shift, so no feasible
  route visits them; jobs compatible with nobody never reach PyVRP;
- the maximum number of jobs is one more load dimension (each job delivers 1);
- jobs are optional with a prize far above any detour, larger for a higher priority, so the plan
  serves as many (and the most urgent) jobs as fit and then minimises travel; `required=True` (the
  Solomon benchmarks) makes every job mandatory;
- travel times that depend on the hour (`TimeBands`): each technician's profile uses the band of the
  start of their shift. After solving, every route is re-timed with the band of each leg's departure;
  a technician whose route breaks a window or the shift that way gets the slowest band met during the
  shift and the search goes on from the current plan; whatever still breaks is dropped, so the
  returned plan always holds with the real times. The returned times (ETAs) are those real times.
All times are integers in the matrix's unit (seconds for the CRM, scaled distance for Solomon).
"""

from __future__ import annotations

import bisect
import time as clock
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

MAX_TIME = 2**31 - 1
DAY_S = 86_400
DEFAULT_TIMEOUT_S = 5.0
# The search stops earlier once this many iterations in a row found nothing better (small days
# converge in well under a second; large ones use the whole time budget).
CONVERGED_ITERATIONS = 3_000
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


@dataclass
class _Model:
    data: pyvrp.ProblemData
    vehicles: list[Vehicle]
    clients: list[tuple[Job, int]]  # (job, window index)
    clients_of: dict[int, list[int]]
    sub: list[np.ndarray]  # per band, the matrix over PyVRP locations
    incompatible: dict[int, np.ndarray]  # vehicle position -> client indices it cannot serve
    big: int
    profile_keys: list[tuple]


def _build(vehicles: list[Vehicle], jobs: list[Job], compat: dict[int, set[int]], tt: TimeBands,
           *, required: bool, slow: set[int]) -> _Model:
    dims = max([len(v.capacity) for v in vehicles] + [len(j.demand) for j in jobs] + [0])
    limit = any(v.max_jobs is not None for v in vehicles)
    depot_of: dict[int | None, int] = {}
    for v in vehicles:
        for loc in (v.start, v.end):
            depot_of.setdefault(loc, len(depot_of))
    clients: list[tuple[Job, int]] = []
    clients_of: dict[int, list[int]] = {}
    for j in jobs:
        clients_of[j.id] = []
        for w in range(max(1, len(j.windows))):
            clients_of[j.id].append(len(clients))
            clients.append((j, w))
    where = [-1 if loc is None else loc for loc in depot_of] + [j.location for j, _w in clients]
    idx = np.array([max(0, x) for x in where], dtype=np.int64)
    nowhere = np.array([x < 0 for x in where])
    sub = []
    for m in tt.matrices:
        s = m[np.ix_(idx, idx)].astype(np.int64)
        s[nowhere, :] = 0
        s[:, nowhere] = 0
        sub.append(s)
    finite = max(int(s.max()) for s in sub) if sub and sub[0].size else 0
    base_prize = 4 * finite + 1
    horizon = max(v.shift[1] for v in vehicles) - min(v.shift[0] for v in vehicles)
    big = 4 * max(horizon, base_prize * 6) + 1  # longer than any shift, costlier than any prize
    nd = len(depot_of)

    pyvrp_clients = []
    groups: list[pyvrp.ClientGroup] = []
    for j in jobs:
        members = clients_of[j.id]
        group = None
        if len(members) > 1:
            group = len(groups)
            groups.append(pyvrp.ClientGroup(members, required=required))
        for c in members:
            a, b = j.windows[clients[c][1]] if j.windows else (0, MAX_TIME)
            delivery = list(j.demand) + [0] * (dims - len(j.demand)) + ([1] if limit else [])
            pyvrp_clients.append(pyvrp.Client(
                location=nd + c, delivery=delivery, service_duration=int(j.service), tw_early=int(a), tw_late=int(b),
                prize=0 if required else int(base_prize * (1 + max(0, min(100, j.priority)) / 20)),
                required=required and group is None, group=group,
            ))

    # Profile 0 holds the plain travel times and serves no incompatible-job blocking: PyVRP computes
    # each job's nearest neighbours (the moves it tries) from the first profile, which must not hide
    # the jobs some technicians cannot do.
    profile_keys: list[tuple] = [("plain",)]
    matrices: list[np.ndarray] = [sub[tt.band(min(v.shift[0] for v in vehicles))]]
    incompatible: dict[int, np.ndarray] = {}
    vtypes = []
    for k, v in enumerate(vehicles):
        cannot = np.array(sorted(c for c, (j, _w) in enumerate(clients) if j.id not in compat[v.id]), dtype=np.int64)
        incompatible[k] = cannot
        band = "slow" if v.id in slow else tt.band(v.shift[0])
        key = (band, tuple(cannot.tolist()), (v.shift[0], v.shift[1]) if band == "slow" else None)
        if key not in profile_keys:
            base = tt.slowest(v.shift[0], v.shift[1]) if band == "slow" else tt.matrices[band]
            if band == "slow":
                m = base[np.ix_(idx, idx)].astype(np.int64)
                m[nowhere, :] = 0
                m[:, nowhere] = 0
            else:
                m = sub[band].copy()
            if len(cannot):
                cols = nd + cannot
                m[:, cols] = big
                m[cols, cols] = 0
            profile_keys.append(key)
            matrices.append(m)
        capacity = list(v.capacity) + [MAX_TIME] * (dims - len(v.capacity))
        if limit:
            capacity.append(MAX_TIME if v.max_jobs is None else int(v.max_jobs))
        vtypes.append(pyvrp.VehicleType(
            num_available=1, capacity=capacity, start_depot=depot_of[v.start], end_depot=depot_of[v.end],
            tw_early=int(v.shift[0]), tw_late=int(v.shift[1]), profile=profile_keys.index(key), name=str(v.id),
        ))
    depots = [pyvrp.Depot(location=d) for d in range(nd)]
    locations = [pyvrp.Location(0, 0) for _ in where]
    data = pyvrp.ProblemData(locations, pyvrp_clients, depots, vtypes, matrices, matrices, groups)
    return _Model(data, vehicles, clients, clients_of, sub, incompatible, big, profile_keys)


def _initial(model: _Model, plan: Mapping[int, Sequence[int]] | None) -> pyvrp.Solution | None:
    """The current plan (technician id -> job ids in order) as PyVRP's first solution."""
    if not plan:
        return None
    routes, used = [], set()
    for k, v in enumerate(model.vehicles):
        cannot = set(model.incompatible[k].tolist())
        visits = []
        for job_id in plan.get(v.id, ()):
            cs = model.clients_of.get(job_id)
            if cs and job_id not in used and cs[0] not in cannot:
                used.add(job_id)
                visits.append(cs[0])
        if visits:
            routes.append(pyvrp.Route(model.data, visits, k))
    return pyvrp.Solution(model.data, routes) if routes else None


def _sequences(model: _Model, solution: pyvrp.Solution) -> dict[int, list[Job]]:
    out: dict[int, list[Job]] = {}
    for route in solution.routes():
        v = model.vehicles[route.vehicle_type()]
        out[v.id] = [model.clients[a.idx][0] for a in route.schedule() if a.is_client()]
    return out


def solve(
    vehicles: Sequence[Vehicle],
    jobs: Sequence[Job],
    matrix: TimeBands | np.ndarray | Sequence[Sequence[int]],
    *,
    timeout_s: float | None = None,
    initial: Mapping[int, Sequence[int]] | None = None,
    required: bool = False,
    converged_iterations: int | None = CONVERGED_ITERATIONS,
    seed: int = 0,
    exploration_level: int | None = None,  # the previous core's knob: accepted, unused
    threads: int | None = None,  # PyVRP searches on one thread
) -> Solution:
    """Plan routes minimising travel; jobs that cannot be placed come back with a reason.

    `timeout_s` bounds the search (it stops earlier after `converged_iterations` iterations without
    improvement; None: search for the whole budget); `initial` is the current plan (technician id ->
    job ids in order) to start from; `required` makes every job mandatory (benchmarks)."""
    deadline = clock.monotonic() + (timeout_s or DEFAULT_TIMEOUT_S)
    tt = _check(vehicles, jobs, matrix)
    unassigned: dict[int, str] = {}
    working = [v for v in vehicles if _has_shift(v)]
    plannable: list[Job] = []
    compat: dict[int, set[int]] = {v.id: set() for v in working}
    for j in jobs:
        clean = replace(j, windows=_clean_windows(j.windows))
        if j.windows and not clean.windows:
            unassigned[j.id] = "time_window"  # every window closes before it opens
            continue
        able = [v for v in working if _can_serve(v, clean, tt)]
        if not able:
            unassigned[j.id] = explain_unassigned(clean, working, tt)
            continue
        plannable.append(clean)
        for v in able:
            compat[v.id].add(j.id)
    fleet = [v for v in working if compat[v.id]]
    if not plannable:
        return Solution(routes=[], unassigned=unassigned, travel=0)

    slow: set[int] = set()
    rounds = 3 if len(tt.starts) > 1 else 1
    sequences: dict[int, list[Job]] = {}
    current = dict(initial) if initial else None
    if current is None and not required:
        current = _construct(fleet, plannable, tt)
    for round_ in range(rounds):
        model = _build(fleet, plannable, compat, tt, required=required, slow=slow)
        left = deadline - clock.monotonic()
        budget = left * FIRST_PASS_SHARE if round_ == 0 and rounds > 1 else left / 2 if round_ < rounds - 1 else left
        stop = MaxRuntime(max(0.05, budget))
        if converged_iterations:
            stop = MultipleCriteria([stop, NoImprovement(converged_iterations)])
        result = pyvrp.solve(model.data, stop, seed=seed, collect_stats=False,
                             initial_solution=_initial(model, current))
        if result.is_feasible() or not sequences:
            sequences = _sequences(model, result.best)
        current = {vid: [j.id for j in seq] for vid, seq in sequences.items()}
        by_id = {v.id: v for v in fleet}
        broken = {vid for vid, seq in sequences.items() if schedule(by_id[vid], seq, tt)[1]}
        if not broken - slow or round_ == rounds - 1:
            break
        slow |= broken
    return _solution(fleet, working, plannable, sequences, unassigned, tt)


def _construct(fleet: list[Vehicle], jobs: list[Job], tt: TimeBands) -> dict[int, list[int]]:
    """A first plan when there is none stored: VROOM's fast construction (exploration level 0). With
    skills, PyVRP's own start converges far more slowly (30 technicians x 300 jobs: 130,000 s of
    travel after 9 s from its own start, 88,000 from this one); see docs/mapping.md."""
    from mapping.solver_vroom import solve_vroom

    matrix = tt.matrices[tt.band(min(v.shift[0] for v in fleet))]
    first = solve_vroom(fleet, jobs, matrix, exploration_level=0)
    return {r.vehicle: [st.job for st in r.stops] for r in first.routes}


def _solution(fleet, working, plannable, sequences, unassigned, tt) -> Solution:
    routes: list[RoutePlan] = []
    served: set[int] = set()
    for v in fleet:
        seq = sequences.get(v.id)
        if not seq:
            continue
        plan, _dropped = schedule(v, seq, tt)
        if plan.stops:
            routes.append(plan)
            served |= {s.job for s in plan.stops}
    for j in plannable:
        if j.id not in served:
            unassigned[j.id] = explain_unassigned(j, working, tt)
    return Solution(routes=routes, unassigned=unassigned, travel=sum(r.travel for r in routes))


def nearest_neighbour(vehicles: Sequence[Vehicle], jobs: Sequence[Job], matrix) -> Solution:
    """A baseline: each technician in turn drives to the nearest job it can still serve in time."""
    tt = _check(vehicles, jobs, matrix)
    left = {j.id: j for j in sorted(jobs, key=lambda j: -j.priority)}
    routes: list[RoutePlan] = []
    for v in (v for v in vehicles if _has_shift(v)):
        time, here = v.shift[0], v.start
        chosen: list[Job] = []
        load = [0] * max(len(v.capacity), max((len(j.demand) for j in jobs), default=0))
        while left and (v.max_jobs is None or len(chosen) < v.max_jobs):
            best = None
            for j in left.values():
                if not j.skills <= v.skills:
                    continue
                new_load = [load[i] + (j.demand[i] if i < len(j.demand) else 0) for i in range(len(load))]
                if not _fits_capacity(tuple(new_load), v.capacity):
                    continue
                travel = tt.leg(here, j.location, time)
                start = _first_start(_clean_windows(j.windows) if j.windows else (), time + travel)
                if start is None or start + j.service + tt.leg(j.location, v.end, start + j.service) > v.shift[1]:
                    continue
                key = (start - time, travel)
                if best is None or key < best[0]:
                    best = (key, j, start, new_load)
            if best is None:
                break
            _, j, start, load = best
            chosen.append(j)
            time, here = start + j.service, j.location
            del left[j.id]
        if chosen:
            plan, dropped = schedule(v, chosen, tt)
            for j in dropped:
                left[j.id] = j
            if plan.stops:
                routes.append(plan)
    unassigned = {jid: explain_unassigned(j, vehicles, tt) for jid, j in left.items()}
    return Solution(routes=routes, unassigned=unassigned, travel=sum(r.travel for r in routes))
