"""The solver core, without Django: every result passes the independent validator."""

from __future__ import annotations

import json
import random

import pytest

from hvaccrm.tests.shared import SHARED_DATA
from mapping.solomon import instance_read, solution_distance
from mapping.solver import Job, SolverInputError, Vehicle, nearest_neighbour, solve
from mapping.tests.validator import violations

VRPTW = SHARED_DATA / "vrptw"
SKILLS = ["split_ac", "heat_pump", "gas_boiler", "fgas_certified", "chiller"]


def random_day(seed: int, *, n_vehicles: int = 5, n_jobs: int = 40):
    """Points on a 20 km square (seconds at ~8 m/s), shifts 8-16, windows, skills, demands."""
    rng = random.Random(seed)
    pts = [(rng.uniform(0, 20_000), rng.uniform(0, 20_000)) for _ in range(n_vehicles + n_jobs)]
    matrix = [[round(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 / 8) for b in pts] for a in pts]
    vehicles = [
        Vehicle(id=100 + k, start=k, end=k, shift=(8 * 3600, 16 * 3600),
                skills=frozenset(rng.sample(SKILLS, 3)), max_jobs=rng.choice([6, 8, 10]), capacity=(rng.choice([4, 6]),))
        for k in range(n_vehicles)
    ]
    jobs = []
    for i in range(n_jobs):
        a = rng.choice([8, 10, 12, 14]) * 3600
        jobs.append(Job(id=i + 1, location=n_vehicles + i, service=rng.choice([1800, 3600, 5400]),
                        windows=((a, a + 2 * 3600),), skills=frozenset(rng.sample(SKILLS, rng.choice([0, 1, 2]))),
                        priority=rng.choice([50, 75, 100]), demand=(rng.choice([1, 1, 2]),)))
    return vehicles, jobs, matrix


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_window_skill_shift_capacity_and_job_limit_is_respected(seed):
    vehicles, jobs, matrix = random_day(seed)
    solution = solve(vehicles, jobs, matrix, exploration_level=3)
    assert violations(vehicles, jobs, matrix, solution) == []
    assert sum(len(r.stops) for r in solution.routes) >= len(jobs) // 3
    assert set(solution.unassigned.values()) <= {"skills", "time_window", "capacity", "route_full", "no_technician"}


@pytest.mark.parametrize("seed", [1, 2])
def test_the_nearest_neighbour_baseline_is_valid_too_and_not_better(seed):
    vehicles, jobs, matrix = random_day(seed)
    baseline = nearest_neighbour(vehicles, jobs, matrix)
    assert violations(vehicles, jobs, matrix, baseline) == []
    best = solve(vehicles, jobs, matrix)
    assert len(best.unassigned) <= len(baseline.unassigned)


def test_unassigned_jobs_come_back_with_the_reason():
    matrix = [[0, 600, 600, 600, 600], [600, 0, 600, 600, 600], [600, 600, 0, 600, 600],
              [600, 600, 600, 0, 600], [600, 600, 600, 600, 0]]
    vehicles = [Vehicle(id=1, start=0, end=0, shift=(0, 10_000), skills=frozenset({"gas_boiler"}), capacity=(3,), max_jobs=1)]
    jobs = [
        Job(id=1, location=1, service=600, skills=frozenset({"chiller"})),            # nobody can
        Job(id=2, location=2, service=600, windows=((20_000, 21_000),)),               # after the shift
        Job(id=3, location=3, service=600, demand=(5,)),                               # too heavy
        Job(id=4, location=4, service=600, priority=100),                              # fits
        Job(id=5, location=4, service=600, priority=10),                               # route is full
    ]
    solution = solve(vehicles, jobs, matrix)
    assert violations(vehicles, jobs, matrix, solution) == []
    assert [s.job for r in solution.routes for s in r.stops] == [4]
    assert solution.unassigned == {1: "skills", 2: "time_window", 3: "capacity", 5: "route_full"}


def test_emergencies_go_first_when_not_everything_fits():
    matrix = [[0, 100, 100], [100, 0, 100], [100, 100, 0]]
    vehicles = [Vehicle(id=1, start=0, end=0, shift=(0, 2000))]
    jobs = [Job(id=1, location=1, service=1500, priority=50), Job(id=2, location=2, service=1500, priority=100)]
    solution = solve(vehicles, jobs, matrix)
    assert [s.job for s in solution.routes[0].stops] == [2] and list(solution.unassigned) == [1]


def test_a_malformed_matrix_is_refused():
    with pytest.raises(SolverInputError):
        solve([Vehicle(id=1, start=0, end=0)], [Job(id=1, location=3)], [[0, 1], [1, 0]])


def test_a_solomon_instance_is_solved_near_its_best_known_distance():
    vehicles, jobs, matrix, coords = instance_read(VRPTW / "solomon" / "C101.txt")
    solution = solve(vehicles, jobs, matrix, exploration_level=4)
    assert violations(vehicles, jobs, matrix, solution) == []
    assert not solution.unassigned
    best = json.loads((VRPTW / "BKS.json").read_text())["C101_distance"]["best_known_cost"]
    assert solution_distance(solution, jobs, coords) <= best * 1.01
