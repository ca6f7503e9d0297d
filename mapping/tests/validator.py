"""An independent check of a solver result: written apart from the solver, it recomputes every
route from the matrix and the input and lists every broken rule. With travel times by hour band,
each leg takes the band of its departure (the route's start, then the end of the previous job)."""

from __future__ import annotations

from mapping.solver import Job, Solution, TimeBands, Vehicle


def _leg(matrix, i: int | None, j: int | None, t: int) -> int:
    if i is None or j is None:
        return 0
    if isinstance(matrix, TimeBands):
        band = max(k for k, s in enumerate(matrix.starts) if s <= t % 86_400)
        return int(matrix.matrices[band][i][j])
    return int(matrix[i][j])


def violations(vehicles: list[Vehicle], jobs: list[Job], matrix, solution: Solution) -> list[str]:
    problems: list[str] = []
    vmap = {v.id: v for v in vehicles}
    jmap = {j.id: j for j in jobs}
    seen: set[int] = set()
    total = 0
    for route in solution.routes:
        v = vmap.get(route.vehicle)
        if v is None:
            problems.append(f"unknown vehicle {route.vehicle}")
            continue
        if v.max_jobs is not None and len(route.stops) > v.max_jobs:
            problems.append(f"vehicle {v.id}: {len(route.stops)} jobs > max {v.max_jobs}")
        load = [0] * len(v.capacity)
        t, here, travel = max(v.shift[0], route.start), v.start, 0
        for stop in route.stops:
            j = jmap.get(stop.job)
            if j is None:
                problems.append(f"unknown job {stop.job}")
                continue
            if j.id in seen:
                problems.append(f"job {j.id} served twice")
            seen.add(j.id)
            if not j.skills <= v.skills:
                problems.append(f"job {j.id} needs {set(j.skills - v.skills)} that vehicle {v.id} lacks")
            for i, d in enumerate(j.demand):
                if i < len(load):
                    load[i] += d
            leg = _leg(matrix, here, j.location, t)
            travel += leg
            t += leg
            if stop.arrival < t:
                problems.append(f"job {j.id}: arrival {stop.arrival} before it can get there ({t})")
            t = max(t, stop.arrival)
            windows = tuple(w for w in j.windows if w[0] <= w[1]) or ((0, 2**31 - 1),)
            if j.windows and not any(a <= b for a, b in j.windows):
                problems.append(f"job {j.id} is served though every window closes before it opens")
            start = max(t, stop.start)
            if not any(a <= start <= b for a, b in windows):
                problems.append(f"job {j.id}: service starts at {start}, outside its windows {windows}")
            if stop.end - stop.start != j.service:
                problems.append(f"job {j.id}: service lasts {stop.end - stop.start}, not {j.service}")
            t = start + j.service
            here = j.location
        back = _leg(matrix, here, v.end, t)
        travel += back
        t += back
        if t > v.shift[1]:
            problems.append(f"vehicle {v.id}: back at {t}, after its shift ends at {v.shift[1]}")
        if route.stops and route.end < t:
            problems.append(f"vehicle {v.id}: reported back at {route.end}, recomputed {t}")
        if route.stops and v.shift[1] <= v.shift[0]:
            problems.append(f"vehicle {v.id} has no shift but a route")
        if route.stops and route.start < v.shift[0]:
            problems.append(f"vehicle {v.id}: leaves at {route.start} before its shift")
        for i, cap in enumerate(v.capacity):
            if load[i] > cap:
                problems.append(f"vehicle {v.id}: load {load[i]} > capacity {cap}")
        if travel != route.travel:
            problems.append(f"vehicle {v.id}: reported travel {route.travel}, recomputed {travel}")
        total += travel
    if total != solution.travel:
        problems.append(f"total travel {solution.travel} != {total}")
    missing = set(jmap) - seen - set(solution.unassigned)
    if missing:
        problems.append(f"jobs neither served nor reported unassigned: {sorted(missing)}")
    both = seen & set(solution.unassigned)
    if both:
        problems.append(f"jobs both served and unassigned: {sorted(both)}")
    return problems
