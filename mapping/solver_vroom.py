"""The previous solver core, VROOM (through pyvroom). It still serves where it measurably helps: its
fast construction (exploration level 0) is PyVRP's first plan when no plan is stored; and it is the
"old core" of the benchmark's side-by-side figures. Production plans with `mapping.solver.solve`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import vroom

from mapping.solver import MAX_TIME, Job, RoutePlan, Solution, Stop, Vehicle, _check, explain_unassigned


def solve_vroom(
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
    problem.set_durations_matrix(profile="car", matrix_input=np.asarray(matrix, dtype=np.int64).tolist())
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
