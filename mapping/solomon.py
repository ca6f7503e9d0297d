"""Solomon-format VRPTW instances for the solver core (Django-free; used by tests and benchmarks)."""

from __future__ import annotations

import math
from pathlib import Path

from mapping.solver import Job, Solution, Vehicle

SCALE = 100  # VROOM works in integers: distances and times are scaled and rounded


def instance_read(path: str | Path) -> tuple[list[Vehicle], list[Job], list[list[int]], list[tuple[float, float]]]:
    """(vehicles, jobs, scaled matrix, coordinates); customer 0 is the depot (matrix index 0)."""
    lines = Path(path).read_text().splitlines()
    idx = next(i for i, line in enumerate(lines) if line.strip().startswith("NUMBER"))
    count, capacity = (int(x) for x in lines[idx + 1].split())
    rows = [line.split() for line in lines if line.strip() and line.split()[0].isdigit() and len(line.split()) == 7]
    coords = [(float(r[1]), float(r[2])) for r in rows]
    n = len(coords)
    dist = [[math.hypot(coords[i][0] - coords[j][0], coords[i][1] - coords[j][1]) for j in range(n)] for i in range(n)]
    matrix = [[round(d * SCALE) for d in row] for row in dist]
    depot = rows[0]
    horizon = (int(depot[4]) * SCALE, int(depot[5]) * SCALE)
    vehicles = [Vehicle(id=k + 1, start=0, end=0, shift=horizon, capacity=(capacity,)) for k in range(count)]
    jobs = [
        Job(id=int(r[0]), location=i, service=int(float(r[6]) * SCALE),
            windows=((int(float(r[4]) * SCALE), int(float(r[5]) * SCALE)),), demand=(int(r[3]),))
        for i, r in enumerate(rows) if i > 0
    ]
    return vehicles, jobs, matrix, coords


def solution_distance(solution: Solution, jobs: list[Job], coords: list[tuple[float, float]]) -> float:
    """Total Euclidean distance of the routes, unscaled (as the best known solutions count it)."""
    loc = {j.id: j.location for j in jobs}
    total = 0.0
    for r in solution.routes:
        path = [0] + [loc[s.job] for s in r.stops] + [0]
        total += sum(math.dist(coords[a], coords[b]) for a, b in zip(path, path[1:], strict=False))
    return total
