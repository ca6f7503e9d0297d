"""The day as a PyVRP problem (see the package docstring for the mapping) and PyVRP's answers back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyvrp

from mapping.solver.model import MAX_TIME, Job, TimeBands, Vehicle


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
    type_of: list[int]  # vehicle position -> PyVRP vehicle type (identical technicians share one)


@dataclass
class _Layout:
    """Where things are: depots first (one per distinct start/end point), then one PyVRP client per
    window of each job, and the matrix index of each of those locations (-1: no point)."""

    depot_of: dict[int | None, int]
    clients: list[tuple[Job, int]]  # (job, window index)
    clients_of: dict[int, list[int]]
    where: list[int]
    idx: np.ndarray
    nowhere: np.ndarray

    @property
    def depots(self) -> int:
        return len(self.depot_of)

    def restrict(self, matrix: np.ndarray) -> np.ndarray:
        """The matrix over PyVRP's locations; travel to or from "no point" is free."""
        s = matrix[np.ix_(self.idx, self.idx)].astype(np.int64)
        s[self.nowhere, :] = 0
        s[:, self.nowhere] = 0
        return s


def _layout(vehicles: list[Vehicle], jobs: list[Job]) -> _Layout:
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
    return _Layout(depot_of, clients, clients_of, where, idx, nowhere)


def _clients(jobs: list[Job], layout: _Layout, *, dims: int, limit: bool, base_prize: int,
             required: bool) -> tuple[list[pyvrp.Client], list[pyvrp.ClientGroup]]:
    """One PyVRP client per window of a job; a job with several windows is a group of them."""
    pyvrp_clients = []
    groups: list[pyvrp.ClientGroup] = []
    for j in jobs:
        members = layout.clients_of[j.id]
        group = None
        if len(members) > 1:
            group = len(groups)
            groups.append(pyvrp.ClientGroup(members, required=required))
        for c in members:
            a, b = j.windows[layout.clients[c][1]] if j.windows else (0, MAX_TIME)
            delivery = list(j.demand) + [0] * (dims - len(j.demand)) + ([1] if limit else [])
            pyvrp_clients.append(pyvrp.Client(
                location=layout.depots + c, delivery=delivery, service_duration=int(j.service), tw_early=int(a),
                tw_late=int(b), prize=0 if required else int(base_prize * (1 + max(0, min(100, j.priority)) / 20)),
                required=required and group is None, group=group,
            ))
    return pyvrp_clients, groups


def _profile_matrix(v: Vehicle, band, cannot: np.ndarray, tt: TimeBands, sub: list[np.ndarray],
                    layout: _Layout, big: int) -> np.ndarray:
    """The technician's travel times (the band of their shift's start, the bands met during the shift
    weighted by time, or the slowest of them), with edges into the jobs they cannot do longer than any
    shift."""
    if band == "slow":
        m = layout.restrict(tt.slowest(v.shift[0], v.shift[1]))
    elif band == "mean":
        m = layout.restrict(tt.mean(v.shift[0], v.shift[1]))
    else:
        m = sub[band].copy()
    if len(cannot):
        cols = layout.depots + cannot
        m[:, cols] = big
        m[cols, cols] = 0
    return m


def _profiles(vehicles: list[Vehicle], compat: dict[int, set[int]], tt: TimeBands, sub: list[np.ndarray],
              layout: _Layout, big: int, *, slow: Mapping[int, str]):
    """Each technician's routing profile (travel times of their band, incompatible jobs blocked) and
    vehicle type. Technicians alike in every respect (start, end, shift, capacity, job limit, profile)
    share one vehicle type with that many available: PyVRP's search treats a fleet of identical
    vehicles far better than as many one-vehicle types (Solomon: 25 types -> 1).

    Profile 0 is the plain travel times of the earliest shift's band: PyVRP computes each job's
    nearest neighbours (the moves it tries) from the first profile, which must not hide the jobs
    some technicians cannot do; technicians with no blocked job in that band use it too."""
    band0 = tt.band(min(v.shift[0] for v in vehicles))
    profile_keys: list[tuple] = [(band0, (), None)]
    matrices: list[np.ndarray] = [sub[band0]]
    incompatible: dict[int, np.ndarray] = {}
    type_keys: list[tuple] = []
    type_of: list[int] = []
    for k, v in enumerate(vehicles):
        cannot = np.array(sorted(c for c, (j, _w) in enumerate(layout.clients) if j.id not in compat[v.id]),
                          dtype=np.int64)
        incompatible[k] = cannot
        band = slow.get(v.id, "start")
        band = tt.band(v.shift[0]) if band == "start" else band
        key = (band, tuple(cannot.tolist()), (v.shift[0], v.shift[1]) if isinstance(band, str) else None)
        if key not in profile_keys:
            profile_keys.append(key)
            matrices.append(_profile_matrix(v, band, cannot, tt, sub, layout, big))
        tkey = (profile_keys.index(key), v.start, v.end, v.shift, v.capacity, v.max_jobs)
        if tkey not in type_keys:
            type_keys.append(tkey)
        type_of.append(type_keys.index(tkey))
    return profile_keys, matrices, incompatible, type_keys, type_of


def _vehicle_type(v: Vehicle, layout: _Layout, *, dims: int, limit: bool, profile: int, count: int = 1,
                  name: str = "") -> pyvrp.VehicleType:
    capacity = list(v.capacity) + [MAX_TIME] * (dims - len(v.capacity))
    if limit:
        capacity.append(MAX_TIME if v.max_jobs is None else int(v.max_jobs))
    return pyvrp.VehicleType(
        num_available=count, capacity=capacity, start_depot=layout.depot_of[v.start],
        end_depot=layout.depot_of[v.end], tw_early=int(v.shift[0]), tw_late=int(v.shift[1]), profile=profile,
        name=name or str(v.id),
    )


def _build(vehicles: list[Vehicle], jobs: list[Job], compat: dict[int, set[int]], tt: TimeBands,
           *, required: bool, slow: Mapping[int, str]) -> _Model:
    dims = max([len(v.capacity) for v in vehicles] + [len(j.demand) for j in jobs] + [0])
    limit = any(v.max_jobs is not None for v in vehicles)
    layout = _layout(vehicles, jobs)
    sub = [layout.restrict(m) for m in tt.matrices]
    finite = max(int(s.max()) for s in sub) if sub and sub[0].size else 0
    base_prize = 4 * finite + 1
    horizon = max(v.shift[1] for v in vehicles) - min(v.shift[0] for v in vehicles)
    big = 4 * max(horizon, base_prize * 6) + 1  # longer than any shift, costlier than any prize
    pyvrp_clients, groups = _clients(jobs, layout, dims=dims, limit=limit, base_prize=base_prize, required=required)

    profile_keys, matrices, incompatible, type_keys, type_of = _profiles(vehicles, compat, tt, sub, layout, big,
                                                                         slow=slow)
    vtypes = []
    for t, key in enumerate(type_keys):
        members = [k for k, of in enumerate(type_of) if of == t]
        v = vehicles[members[0]]
        vtypes.append(_vehicle_type(v, layout, dims=dims, limit=limit, profile=key[0], count=len(members),
                                    name=",".join(str(vehicles[k].id) for k in members)))
    depots = [pyvrp.Depot(location=d) for d in range(layout.depots)]
    locations = [pyvrp.Location(0, 0) for _ in layout.where]
    data = pyvrp.ProblemData(locations, pyvrp_clients, depots, vtypes, matrices, matrices, groups)
    return _Model(data, vehicles, layout.clients, layout.clients_of, sub, incompatible, big, profile_keys, type_of)


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
            routes.append(pyvrp.Route(model.data, visits, model.type_of[k]))
    return pyvrp.Solution(model.data, routes) if routes else None


def _sequences(model: _Model, solution: pyvrp.Solution,
               current: Mapping[int, Sequence[int]] | None = None) -> dict[int, list[Job]]:
    """Each route back to a technician. Routes of a shared vehicle type go to its technicians by the
    most jobs in common with the current plan, summed over the type's routes (so a re-plan does not
    swap alike technicians; one route at a time could hand a tie to the wrong one)."""
    pools: dict[int, list[int]] = {}
    for k, t in enumerate(model.type_of):
        pools.setdefault(t, []).append(k)
    routes: dict[int, list[list[Job]]] = {}
    for route in solution.routes():
        routes.setdefault(route.vehicle_type(), []).append(
            [model.clients[a.idx][0] for a in route.schedule() if a.is_client()])
    out: dict[int, list[Job]] = {}
    for t, jobs_of in routes.items():
        held = [set((current or {}).get(model.vehicles[k].id, ())) for k in pools[t]]
        common = [[len({j.id for j in jobs} & h) for h in held] for jobs in jobs_of]
        for r, at in enumerate(_match(common)):
            out[model.vehicles[pools[t][at]].id] = jobs_of[r]
    return out


def _match(common: list[list[int]]) -> list[int]:
    """Route r -> technician position, each at most once, keeping the most jobs in common: greedy,
    then, while it adds up to more, a route takes another technician, whose route takes the best
    of the freed one and those nobody has."""
    chosen: list[int] = []
    for row in common:
        chosen.append(max((k for k in range(len(row)) if k not in chosen), key=lambda k: row[k]))
    better = True
    while better:
        better = False
        for a, ka in enumerate(chosen):
            for k in range(len(common[a])):
                if k == ka:
                    continue
                b = chosen.index(k) if k in chosen else None
                gain, kb = common[a][k] - common[a][ka], None
                if b is not None:
                    spare = [ka] + [x for x in range(len(common[b])) if x not in chosen]
                    kb = max(spare, key=lambda x: common[b][x])
                    gain += common[b][kb] - common[b][k]
                if gain > 0:
                    chosen[a] = k
                    if b is not None:
                        chosen[b] = kb
                    better = True
                    break
            if better:
                break
    return chosen
