"""The solver core, without Django: every result passes the independent validator."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import numpy as np
import pytest

from hvaccrm.tests.shared import SHARED_DATA
from mapping.solomon import instance_read, solution_distance
from mapping.solver import Job, SolverInputError, TimeBands, Vehicle, nearest_neighbour, schedule, solve
from mapping.solver_vroom import solve_vroom
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
    solution = solve(vehicles, jobs, matrix, timeout_s=2)
    assert violations(vehicles, jobs, matrix, solution) == []
    assert sum(len(r.stops) for r in solution.routes) >= len(jobs) // 3
    assert set(solution.unassigned.values()) <= {"skills", "time_window", "capacity", "route_full", "no_technician"}


@pytest.mark.parametrize("seed", [1, 2])
def test_the_nearest_neighbour_baseline_is_valid_too_and_not_better(seed):
    vehicles, jobs, matrix = random_day(seed)
    baseline = nearest_neighbour(vehicles, jobs, matrix)
    assert violations(vehicles, jobs, matrix, baseline) == []
    best = solve(vehicles, jobs, matrix, timeout_s=2)
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
    solution = solve(vehicles, jobs, matrix, timeout_s=3, required=True)
    assert violations(vehicles, jobs, matrix, solution) == []
    assert not solution.unassigned
    best = json.loads((VRPTW / "BKS.json").read_text())["C101_distance"]["best_known_cost"]
    assert solution_distance(solution, jobs, coords) <= best * 1.01


def _line(n: int, step: int = 600):
    return [[abs(i - j) * step for j in range(n)] for i in range(n)]


def test_bad_input_gives_a_plan_with_a_reason_for_each_left_out_job_never_an_error():
    matrix = _line(6)
    vehicles = [
        Vehicle(id=1, start=0, end=0, shift=(8 * 3600, 16 * 3600), skills=frozenset({"split_ac"})),
        Vehicle(id=2, start=0, end=0, shift=(9 * 3600, 9 * 3600)),  # no shift
        Vehicle(id=3, start=0, end=0, shift=(12 * 3600, 8 * 3600)),  # a shift that ends before it starts
    ]
    jobs = [
        Job(id=1, location=1, service=600, skills=frozenset({"chiller"})),  # nobody can
        Job(id=2, location=2, service=600, windows=((11 * 3600, 10 * 3600),)),  # closes before it opens
        Job(id=3, location=3, service=600, skills=frozenset({"split_ac"})),  # fine
    ]
    solution = solve(vehicles, jobs, matrix, timeout_s=1)
    assert violations(vehicles, jobs, matrix, solution) == []
    assert [s.job for r in solution.routes for s in r.stops] == [3]
    assert solution.unassigned == {1: "skills", 2: "time_window"}


def test_an_empty_day_and_a_day_without_shifts_are_plans_too():
    matrix = _line(3)
    assert solve([Vehicle(id=1, start=0, end=0)], [], matrix).routes == []
    idle = [Vehicle(id=1, start=0, end=0, shift=(0, 0))]
    jobs = [Job(id=1, location=1), Job(id=2, location=2)]
    solution = solve(idle, jobs, matrix, timeout_s=1)
    assert solution.routes == [] and solution.unassigned == {1: "no_technician", 2: "no_technician"}
    assert solve([], jobs, matrix).unassigned == {1: "no_technician", 2: "no_technician"}


def test_a_job_with_two_windows_is_served_in_the_one_that_fits():
    matrix = _line(3)
    vehicles = [Vehicle(id=1, start=0, end=0, shift=(12 * 3600, 18 * 3600))]
    jobs = [Job(id=1, location=1, service=600, windows=((8 * 3600, 9 * 3600), (14 * 3600, 15 * 3600)))]
    solution = solve(vehicles, jobs, matrix, timeout_s=1)
    assert violations(vehicles, jobs, matrix, solution) == []
    assert 14 * 3600 <= solution.routes[0].stops[0].start <= 15 * 3600


def _rush_bands(matrix):
    """Midday as given, the evening peak (15-18) twice as slow."""
    m = np.asarray(matrix, dtype=np.int64)
    return TimeBands(starts=(0, 15 * 3600, 18 * 3600), matrices=(m, 2 * m, m))


def test_travel_times_follow_the_hour_and_the_plan_holds_with_the_real_times():
    vehicles, jobs, matrix = random_day(4)
    vehicles = [replace(v, shift=(12 * 3600, 19 * 3600)) for v in vehicles]
    jobs = [replace(j, windows=((12 * 3600, 17 * 3600),)) for j in jobs]
    bands = _rush_bands(matrix)
    solution = solve(vehicles, jobs, bands, timeout_s=2)
    assert violations(vehicles, jobs, bands, solution) == []
    late_legs = [(s.travel, s.arrival - s.travel) for r in solution.routes for s in r.stops]
    loc = {j.id: j.location for j in jobs}
    for r in solution.routes:
        here = next(v.start for v in vehicles if v.id == r.vehicle)
        for s in r.stops:  # every ETA used the band of its departure
            depart = s.arrival - s.travel
            assert s.travel == bands.leg(here, loc[s.job], depart)
            here = loc[s.job]
    assert any(depart >= 15 * 3600 for _t, depart in late_legs)


def test_a_re_plan_starts_from_the_current_plan_and_keeps_it_when_nothing_changed():
    vehicles, jobs, matrix = random_day(5)
    first = solve(vehicles, jobs, matrix, timeout_s=2)
    current = {r.vehicle: [s.job for s in r.stops] for r in first.routes}
    again = solve(vehicles, jobs, matrix, timeout_s=0.3, initial=current)
    assert violations(vehicles, jobs, matrix, again) == []
    assert again.travel <= first.travel and len(again.unassigned) <= len(first.unassigned)


def test_pyvrp_is_no_worse_than_the_old_core_on_a_skilled_day():
    vehicles, jobs, matrix = random_day(6)
    old = solve_vroom(vehicles, jobs, matrix, exploration_level=3)
    new = solve(vehicles, jobs, matrix, timeout_s=2)
    assert violations(vehicles, jobs, matrix, new) == []
    assert len(new.unassigned) <= len(old.unassigned) + 1


def test_alike_technicians_share_one_vehicle_type_and_a_re_plan_keeps_who_does_what():
    from mapping.solver.problem import _build

    vehicles, jobs, matrix = random_day(7, n_vehicles=1, n_jobs=30)
    base = replace(vehicles[0], skills=frozenset(SKILLS), max_jobs=8, capacity=(20,))
    crew = [replace(base, id=500 + k) for k in range(4)]
    compat = {v.id: {j.id for j in jobs} for v in crew}
    model = _build(crew, jobs, compat, TimeBands(starts=(0,), matrices=(np.asarray(matrix),)), required=False,
                   slow={})
    assert model.data.num_vehicle_types == 1 and model.data.vehicle_type(0).num_available == 4
    assert model.data.num_profiles == 1

    first = solve(crew, jobs, matrix, timeout_s=1)
    assert violations(crew, jobs, matrix, first) == [] and first.routes
    current = {r.vehicle: [s.job for s in r.stops] for r in first.routes}
    again = solve(crew, jobs, matrix, timeout_s=0.3, initial=current)
    assert violations(crew, jobs, matrix, again) == []
    for r in again.routes:
        kept = set(current.get(r.vehicle, ())) & {s.job for s in r.stops}
        assert len(kept) >= len(r.stops) // 2  # the same technician keeps (most of) their route


def test_the_search_starts_with_penalties_on_the_problem_scale_not_pyvrps_fixed_midpoint():
    from mapping.solver.problem import _build
    from mapping.solver.search import _penalties

    vehicles, jobs, matrix = random_day(8)
    compat = {v.id: {j.id for j in jobs} for v in vehicles}
    model = _build(vehicles, jobs, compat, TimeBands(starts=(0,), matrices=(np.asarray(matrix),)), required=False,
                   slow={})
    from mapping.solver.search import PENALTY_SCALE as k

    loads, time_warp, _distance = _penalties(model.data)
    assert time_warp == k < 100  # a second late costs k seconds of driving, not 50,000
    edge = np.asarray(model.data.distance_matrix(0))[model.data.num_depots:, model.data.num_depots:].mean()
    assert len(loads) == 2 and loads[1] == pytest.approx(k * edge)  # the job limit: each job delivers 1
    assert loads[0] == pytest.approx(k * edge / np.mean([j.demand[0] for j in jobs]))


def test_with_hour_bands_the_search_starts_with_the_lower_penalty_scale():
    from mapping.solver.search import BANDS_PENALTY_SCALE, PENALTY_SCALE, _penalties, penalty_scale

    one = TimeBands(starts=(0,), matrices=(np.ones((3, 3)),))
    two = TimeBands(starts=(0, 3600), matrices=(np.ones((3, 3)), 2 * np.ones((3, 3))))
    assert penalty_scale(one) == PENALTY_SCALE
    assert penalty_scale(two) == BANDS_PENALTY_SCALE < PENALTY_SCALE  # 10 cost 12 % more real travel a job
    from mapping.solver.problem import _build

    vehicles, jobs, matrix = random_day(8)
    compat = {v.id: {j.id for j in jobs} for v in vehicles}
    model = _build(vehicles, jobs, compat, TimeBands(starts=(0,), matrices=(np.asarray(matrix),)), required=False,
                   slow={})
    loads, time_warp, _ = _penalties(model.data, BANDS_PENALTY_SCALE)
    assert time_warp == BANDS_PENALTY_SCALE
    # Job limits and capacities keep their penalty: at the bands' scale a limit of one job was broken
    # and the weighted job lost (test_district_weights).
    assert loads == pytest.approx(_penalties(model.data)[0])


def test_the_time_budget_can_be_counted_in_cpu_seconds():
    import time

    from mapping.solver import search

    vehicles, jobs, matrix = random_day(9)
    try:
        search.CLOCK = time.process_time
        t = time.process_time()
        plan = solve(vehicles, jobs, matrix, timeout_s=0.5, converged_iterations=None)
        spent = time.process_time() - t
    finally:
        search.CLOCK = time.monotonic
    assert violations(vehicles, jobs, matrix, plan) == []
    assert 0.4 <= spent < 1.5


def _served_weight(solution, jobs):
    priority = {j.id: j.priority for j in jobs}
    return sum(20 + priority[s.job] for r in solution.routes for s in r.stops)


def test_the_plan_is_never_worse_than_the_plan_the_search_started_from():
    vehicles, jobs, matrix = random_day(10, n_vehicles=6, n_jobs=60)
    start = solve_vroom(vehicles, jobs, matrix, exploration_level=5)
    plan = {r.vehicle: [s.job for s in r.stops] for r in start.routes}
    for budget in (0.05, 0.5):
        found = solve(vehicles, jobs, matrix, timeout_s=budget, initial=plan, converged_iterations=None)
        assert violations(vehicles, jobs, matrix, found) == []
        assert (_served_weight(found, jobs), -found.travel) >= (_served_weight(start, jobs), -start.travel)


def test_the_first_plan_is_the_better_of_vroom_s_quick_and_deeper_construction():
    from mapping.solver import search
    from mapping.solver.model import as_bands

    vehicles, jobs, matrix = random_day(11, n_vehicles=6, n_jobs=60)
    quick = solve_vroom(vehicles, jobs, matrix, exploration_level=0)
    deeper = solve_vroom(vehicles, jobs, matrix, exploration_level=3)
    better = min((quick, deeper), key=lambda s: (len(s.unassigned), s.travel))
    level = search.CONSTRUCT_LEVEL
    try:
        search.CONSTRUCT_LEVEL = 3
        first = search._construct(vehicles, jobs, as_bands(matrix), budget=30.0)
    finally:
        search.CONSTRUCT_LEVEL = level
    assert sum(len(ids) for ids in first.values()) == len(jobs) - len(better.unassigned)
    assert first == {r.vehicle: [s.job for s in r.stops] for r in better.routes}


def test_routes_of_alike_technicians_go_back_to_who_had_most_of_them_summed_over_the_routes():
    from mapping.solver.problem import _match

    # Route 0 shares 3 jobs with technicians 0 and 2, route 1 shares 3 with technician 0 only: one
    # route at a time would give technician 0 to route 0 and leave route 1 with none of its jobs.
    assert _match([[3, 0, 3, 0], [3, 0, 0, 0]]) == [2, 0]
    assert _match([[0, 1], [5, 0]]) == [1, 0]
    assert _match([[2, 0, 0]]) == [0]


def test_the_mean_of_the_bands_weighs_each_band_by_the_time_the_shift_spends_in_it():
    m = np.full((2, 2), 600, dtype=np.int64)
    np.fill_diagonal(m, 0)
    bands = _rush_bands(m)  # 15-18 twice as slow
    # 12-18: three hours at 600 s, three at 1,200 s
    assert bands.mean(12 * 3600, 18 * 3600)[0, 1] == 900
    # 12-20: five hours at 600 s, three at 1,200 s
    assert bands.mean(12 * 3600, 20 * 3600)[0, 1] == round((5 * 600 + 3 * 1200) / 8)
    assert bands.mean(9 * 3600, 12 * 3600)[0, 1] == 600
    assert bands.slowest(12 * 3600, 20 * 3600)[0, 1] == 1200


def test_jobs_the_hour_bands_drop_are_put_back_where_they_keep_their_route_whole():
    from mapping.solver.search import _repair

    # A line of points 600 s apart at midday; the evening peak (15-18) doubles every leg.
    matrix = _line(6)
    bands = _rush_bands(matrix)
    early = Vehicle(id=1, start=0, end=0, shift=(8 * 3600, 16 * 3600))
    late = Vehicle(id=2, start=0, end=0, shift=(12 * 3600, 20 * 3600))
    jobs = [Job(id=k, location=k, service=1800, windows=((8 * 3600, 20 * 3600),)) for k in range(1, 6)]
    jobs.append(Job(id=6, location=5, service=1800, windows=((16 * 3600, 17 * 3600),), priority=90))
    compat = {1: {j.id for j in jobs}, 2: {j.id for j in jobs}}
    # The search's plan gave the 16-17 job to the technician whose shift ends at 16: re-timed, it breaks.
    sequences = {1: [jobs[0], jobs[1], jobs[5]], 2: [jobs[2], jobs[3], jobs[4]]}
    repaired = _repair([early, late], sequences, jobs, compat, bands, until=float("inf"))
    held = {vid: [j.id for j in seq] for vid, seq in repaired.items()}
    assert sorted(sum(held.values(), [])) == [1, 2, 3, 4, 5, 6]
    assert 6 in held[2] and held[1] == [1, 2]
    solution_routes = [schedule(v, repaired[v.id], bands) for v in (early, late)]
    assert all(dropped == [] for _plan, dropped in solution_routes)
    # Nothing is tried once the clock has passed `until`: the dropped job stays out.
    stale = _repair([early, late], sequences, jobs, compat, bands, until=0)
    assert sorted(j.id for seq in stale.values() for j in seq) == [1, 2, 3, 4, 5]


def test_with_hour_bands_the_plan_serves_no_fewer_jobs_than_the_old_core_re_timed():
    vehicles, jobs, matrix = random_day(12)
    vehicles = [replace(v, shift=((8 if v.id % 2 else 12) * 3600, (16 if v.id % 2 else 20) * 3600)) for v in vehicles]
    bands = _rush_bands(matrix)
    with_bands = solve(vehicles, jobs, bands, timeout_s=2)
    assert violations(vehicles, jobs, bands, with_bands) == []
    old = solve_vroom(vehicles, jobs, np.asarray(matrix), exploration_level=3)
    by_v, by_j = {v.id: v for v in vehicles}, {j.id: j for j in jobs}
    old_kept = sum(len(schedule(by_v[r.vehicle], [by_j[s.job] for s in r.stops], bands)[0].stops) for r in old.routes)
    assert len(jobs) - len(with_bands.unassigned) >= old_kept


def test_a_dropped_job_takes_the_place_of_one_that_fits_on_another_route():
    from mapping.solver.search import _repair

    matrix = _line(4)
    bands = _rush_bands(matrix)
    only_one = Vehicle(id=1, start=0, end=0, shift=(8 * 3600, 12 * 3600), max_jobs=1)
    other = Vehicle(id=2, start=0, end=0, shift=(8 * 3600, 12 * 3600))
    movable = Job(id=1, location=1, service=600)
    fixed_to_first = Job(id=2, location=2, service=600)  # only the first technician can do it
    compat = {1: {1, 2}, 2: {1}}
    repaired = _repair([only_one, other], {1: [movable], 2: []}, [movable, fixed_to_first], compat, bands,
                       until=float("inf"))
    assert [j.id for j in repaired[1]] == [2] and [j.id for j in repaired[2]] == [1]


def test_vroom_builds_the_first_plan_only_where_technicians_differ_in_what_they_can_do(monkeypatch):
    from mapping.solver import search

    calls = []
    real = search._construct
    monkeypatch.setattr(search, "_construct", lambda *a, **k: calls.append(1) or real(*a, **k))
    vehicles, jobs, matrix = random_day(13)
    everyone = [replace(v, skills=frozenset(SKILLS)) for v in vehicles]
    plain = [replace(j, skills=frozenset()) for j in jobs]
    alike = solve(everyone, plain, matrix, timeout_s=0.5)
    assert calls == [] and violations(everyone, plain, matrix, alike) == []
    skilled = solve(vehicles, jobs, matrix, timeout_s=0.5)
    assert calls == [1] and violations(vehicles, jobs, matrix, skilled) == []


def test_an_alike_fleet_on_a_short_budget_gets_a_shorter_acceptance_history(monkeypatch):
    from mapping.solver import search

    seen = []
    real = search._ils
    monkeypatch.setattr(search, "_ils", lambda *a, **k: seen.append(k.get("history")) or real(*a, **k))
    vehicles, jobs, matrix = random_day(14)
    everyone = [replace(v, skills=frozenset(SKILLS)) for v in vehicles]
    plain = [replace(j, skills=frozenset(), windows=(), demand=()) for j in jobs]  # anyone can do any
    solve(everyone, plain, matrix, timeout_s=0.4)  # 10 ms a job
    assert seen and set(seen) == {search.SHORT_HISTORY}
    seen.clear()
    solve(everyone, plain, matrix, timeout_s=2.4)  # 60 ms a job: PyVRP's default history
    assert seen and set(seen) == {None}
    seen.clear()
    solve(vehicles, jobs, matrix, timeout_s=0.4)  # skills differ: the smaller search, default history
    assert seen and set(seen) == {None}
