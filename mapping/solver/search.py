"""The search: drop the jobs nobody can do, let PyVRP plan the rest, re-time with the real travel
times and re-plan the routes that broke; and a nearest-neighbour baseline for the benchmarks."""

from __future__ import annotations

import time as clock
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pyvrp
from pyvrp.search import (
    OPERATORS,
    LocalSearch,
    NeighbourhoodParams,
    PerturbationManager,
    PerturbationParams,
    compute_neighbours,
)
from pyvrp.stop import MultipleCriteria, NoImprovement

from mapping.solver.model import (
    CONVERGED_ITERATIONS,
    DEFAULT_TIMEOUT_S,
    FIRST_PASS_SHARE,
    STALL_ITERATIONS,
    Job,
    RoutePlan,
    Solution,
    TimeBands,
    Vehicle,
)
from mapping.solver.problem import _build, _initial, _sequences
from mapping.solver.timing import (
    _can_serve,
    _check,
    _clean_windows,
    _first_start,
    _fits_capacity,
    _has_shift,
    explain_unassigned,
    schedule,
)


def now() -> float:
    """The solver's clock for its time budget: wall time. A benchmark on a loaded machine may point
    `mapping.solver.search.CLOCK` at `time.process_time` to give every solver the same CPU seconds."""
    return CLOCK()


CLOCK = clock.monotonic
# Starting penalties in units of the problem's own scale (`_penalties`): 1 let Solomon's tight R1/RC1
# instances converge too slowly within 4.5 s, 100 helped the tuning days less.
PENALTY_SCALE = 10
# With hour bands (more than one band) 10 cost 12 % more real travel per served job than PyVRP's
# midpoint; 1 served a little more at the midpoint's travel per job (tuning days, docs/mapping.md).
BANDS_PENALTY_SCALE = 1
# The search's neighbourhood (nearest jobs tried per job) and largest perturbation (jobs moved per
# iteration): PyVRP's defaults, 50 and 25, unless the budget is short for the day, under
# SHORT_BUDGET_S_PER_JOB seconds per job; then 20 and 10, which make an iteration 3-5x cheaper (tuning
# days at 10 CPU s, 2 days x 3 PyVRP seeds: 30 x 300, 33 ms a job, 0.965 of the old plan instead of
# 0.995; 12 x 120, 83 ms a job, 0.896 instead of 0.884, so not there; Solomon, 45 ms a job, keeps the
# defaults it was measured with). docs/mapping.md, "Fourth pass".
NUM_NEIGHBOURS = 50
MAX_PERTURBATIONS = 25
SHORT_BUDGET_S_PER_JOB = 0.04
SHORT_NUM_NEIGHBOURS = 20
SHORT_MAX_PERTURBATIONS = 10
# The first plan when none is stored: VROOM's level-0 construction, then VROOM at CONSTRUCT_LEVEL
# with at most CONSTRUCT_SHARE of the budget (VROOM returns its best so far at its timeout), the
# better of the two (0: level 0 only). PyVRP keeps the basin it starts in: from level 3's plan (about
# 1 CPU s on 12 x 120) it ends below that plan on every day, from level 0's not on the held-out ones.
CONSTRUCT_LEVEL = 3
# With hour bands, the travel times of a technician's profile, one step per round for a technician
# whose route breaks under the real times: the bands met during the shift weighted by time ("mean"),
# then the slowest of them ("slow"); "start" (the band of the shift's start) is also understood.
# ("start", "mean", "slow") against ("mean", "slow"), 30 x 300 tuning days 0-2, 10 CPU s, real travel
# vs the old plan re-timed: 0.975 / 1.175 / 1.040 against 0.952 / 1.014 / 0.984, all 300 served
# (day 1: the start-band plan kept 299 after _repair and the guard returned VROOM's); 12 x 120:
# 0.880 / 0.968 / 0.849 against 0.872 / 0.940 / 0.851, same served (docs/mapping.md, "Fifth pass").
BAND_STEPS = ("mean", "slow")
# With hour bands, the share of the budget kept for putting back the jobs the re-timing dropped
# (`_repair`: about 10 ms per job tried on 30 x 300).
REPAIR_SHARE = 0.05
# The deeper start and the smaller search were measured on one matrix; with hour bands the deeper
# start (planned in the earliest shift's band) served fewer jobs (12 x 120: 117.9 against 118.75 of
# 120, 8 runs), so those days keep the level-0 start and PyVRP's defaults.
# 0.5 since the fifth pass: on 30 x 300 level 3 needs 5-7 s to converge and from its converged plan
# PyVRP ends lower than from a plan cut at 3 s (tuning days 0, 1 x PyVRP seeds 0, 1000, 10 CPU s,
# mean travel vs the old plan: share 0.15 0.974, 0.3 0.950, 0.5 0.931, 0.7 0.934, 0.9 0.932; days
# 2-5: 0.3 0.957, 0.5 0.942); VROOM stops once converged (12 x 120 about 1 s).
CONSTRUCT_SHARE = 0.5
# Where every technician can do every job, no VROOM start and PyVRP's default neighbourhood (fifth
# pass: Solomon tuning subset avg +0.06 -> -0.01 %, worst 0.32 -> 0.20 %; 24 of the 60 Gehring-
# Homberger 200-customer instances at 5 CPU s, avg -2.79 -> -3.22 %, worst +3.91 -> +1.98 %).
VROOM_START_FOR_ALIKE = False
# Where every technician can do every job and the budget is short for the day (under
# SHORT_BUDGET_S_PER_JOB a job), the late-acceptance history of PyVRP's search is this long instead
# of 300: few iterations fit, and a long history accepts worse plans for too long. Fifth pass, 5 CPU s
# per 200-customer R1/RC1 instance (_1, _6, _3, _8, seeds 0 and 1): average gap +0.81 % at 300, +0.29 %
# at 50 (20: +0.42 %, 100: +0.66 %); C/R2/RC2 unchanged (-5.31 / -5.30 %); held-out R1/RC1 (_2, _4, _5,
# _7, _9, _10) +1.30 -> +0.81 %. Solomon (45 ms a job) keeps 300: at 50 its held-out average went
# +0.22 -> +0.32 %.
SHORT_HISTORY = 50


def penalty_scale(tt: TimeBands) -> float:
    """The starting penalties' scale (`_penalties`) for these travel times."""
    return BANDS_PENALTY_SCALE if len(tt.starts) > 1 else PENALTY_SCALE


class _Until:
    """PyVRP stopping criterion: the solver's clock has reached `end`."""

    def __init__(self, end: float) -> None:
        self.end = end

    def __call__(self, best_cost: float) -> bool:
        return now() >= self.end


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
    budget = timeout_s or DEFAULT_TIMEOUT_S
    deadline = now() + budget
    tt = _check(vehicles, jobs, matrix)
    working = [v for v in vehicles if _has_shift(v)]
    plannable, compat, unassigned = _sort_out(jobs, working, tt)
    fleet = [v for v in working if compat[v.id]]
    if not plannable:
        return Solution(routes=[], unassigned=unassigned, travel=0)

    slow = {v.id: BAND_STEPS[0] for v in fleet}  # technician -> the step of BAND_STEPS of their profile
    rounds = len(BAND_STEPS) if len(tt.starts) > 1 else 1
    # With hour bands the last REPAIR_SHARE of the budget puts back what the re-timing dropped.
    repair_until, deadline = deadline, deadline - REPAIR_SHARE * budget * (rounds > 1)
    sequences: dict[int, list[Job]] = {}
    current = dict(initial) if initial else None
    # Which start and search for which day: see CONSTRUCT_SHARE, VROOM_START_FOR_ALIKE, SHORT_HISTORY.
    one_band = len(tt.starts) == 1
    alike = len({frozenset(compat[v.id]) for v in fleet}) == 1
    if current is None and (VROOM_START_FOR_ALIKE or not alike):
        current = _construct(fleet, plannable, tt, (deadline - now()) * CONSTRUCT_SHARE * one_band)
    start = current or {}
    tight = (deadline - now()) / len(plannable) < SHORT_BUDGET_S_PER_JOB
    short = one_band and not alike and tight
    history = SHORT_HISTORY if alike and tight else None
    for round_ in range(rounds):
        model = _build(fleet, plannable, compat, tt, required=required, slow=slow)
        result = _run(model, _budget(deadline - now(), round_=round_, rounds=rounds), seed=seed,
                      initial=_initial(model, current), converged_iterations=converged_iterations,
                      scale=penalty_scale(tt), short=short, history=history)
        if result.is_feasible() or not sequences:
            sequences = _sequences(model, result.best, current)
        current = {vid: [j.id for j in seq] for vid, seq in sequences.items()}
        by_id = {v.id: v for v in fleet}
        broken = {vid for vid, seq in sequences.items() if schedule(by_id[vid], seq, tt)[1]}
        if round_ == rounds - 1 or all(slow[vid] == BAND_STEPS[-1] for vid in broken):
            break
        for vid in broken:
            slow[vid] = BAND_STEPS[min(BAND_STEPS.index(slow[vid]) + 1, len(BAND_STEPS) - 1)]
    if rounds > 1:
        sequences = _repair(fleet, sequences, plannable, compat, tt, until=repair_until)
    return _best_of(_solution(fleet, working, plannable, sequences, dict(unassigned), tt),
                    _start_solution(fleet, working, plannable, compat, start, unassigned, tt), plannable)


def _repair(fleet: list[Vehicle], sequences: Mapping[int, list[Job]], plannable: list[Job],
            compat: Mapping[int, set[int]], tt: TimeBands, *, until: float) -> dict[int, list[Job]]:
    """With hour bands: each route re-timed with the real times (what breaks is dropped), then every
    job that no route holds put back, most urgent first, while the clock is before `until`: where it
    adds the least real travel and keeps its route whole, or else in place of one job that then
    fits on another route (an ejection of depth one). The band rounds plan technicians with
    estimated times, so re-timed routes lose jobs or end with room the search did not see (30 x 300
    days: the plan kept fewer jobs than its start and the start won, 1.19-1.23 of the old travel)."""
    job = {j.id: j for j in plannable}
    seq: dict[int, list[Job]] = {}
    cost: dict[int, int] = {}
    for v in fleet:
        plan, _ = schedule(v, sequences.get(v.id, []), tt)
        seq[v.id], cost[v.id] = [job[st.job] for st in plan.stops], plan.travel
    held = {j.id for route in seq.values() for j in route}
    for j in sorted((j for j in plannable if j.id not in held), key=lambda j: -j.priority):
        if now() >= until:
            break
        moves = _cheapest_insert(j, fleet, seq, cost, compat, tt) or _insert_by_ejection(j, fleet, seq, cost, compat,
                                                                                          tt, until)
        for vid, route, travel in moves or ():
            seq[vid], cost[vid] = route, travel
    return seq


def _cheapest_insert(j: Job, fleet: list[Vehicle], seq: Mapping[int, list[Job]], cost: Mapping[int, int],
                     compat: Mapping[int, set[int]], tt: TimeBands, *, skip: int | None = None):
    """[(technician, new route, its real travel)] for the cheapest place that keeps a route whole."""
    best: tuple[int, int, list[Job], int] | None = None
    for v in fleet:
        route = seq[v.id]
        if v.id == skip or j.id not in compat[v.id] or (v.max_jobs is not None and len(route) >= v.max_jobs):
            continue
        for at in range(len(route) + 1):
            trial = route[:at] + [j] + route[at:]
            plan, dropped = schedule(v, trial, tt)
            if not dropped and (best is None or plan.travel - cost[v.id] < best[0]):
                best = (plan.travel - cost[v.id], v.id, trial, plan.travel)
    return None if best is None else [(best[1], best[2], best[3])]


def _insert_by_ejection(j: Job, fleet: list[Vehicle], seq: Mapping[int, list[Job]], cost: Mapping[int, int],
                        compat: Mapping[int, set[int]], tt: TimeBands, until: float):
    """j in place of one job k of a route, k then at its cheapest place on another route."""
    best: tuple[int, list] | None = None
    for v in fleet:
        if j.id not in compat[v.id] or now() >= until:
            continue
        route = seq[v.id]
        for at in range(len(route) + 1):
            if now() >= until:
                break
            plan, dropped = schedule(v, route[:at] + [j] + route[at:], tt)
            if len(dropped) != 1 or dropped[0].id == j.id:
                continue
            kept = [x for x in route[:at] + [j] + route[at:] if x is not dropped[0]]
            moved = _cheapest_insert(dropped[0], fleet, {**seq, v.id: kept}, cost, compat, tt, skip=v.id)
            if moved:
                delta = plan.travel - cost[v.id] + moved[0][2] - cost[moved[0][0]]
                if best is None or delta < best[0]:
                    best = (delta, [(v.id, kept, plan.travel), *moved])
    return None if best is None else best[1]


def _start_solution(fleet, working, plannable, compat, start, unassigned, tt) -> Solution:
    """The plan the search started from, re-timed like its result (jobs it cannot hold dropped).
    Empty when the search started from PyVRP's own plan: nothing to re-time or explain."""
    if not start:
        return Solution(routes=[], unassigned=dict(unassigned), travel=0)
    by_job = {j.id: j for j in plannable}
    seen: set[int] = set()
    sequences: dict[int, list[Job]] = {}
    for v in fleet:
        ids = [i for i in start.get(v.id, ()) if i in by_job and i in compat[v.id] and i not in seen]
        seen |= set(ids)
        sequences[v.id] = [by_job[i] for i in ids]
    return _solution(fleet, working, plannable, sequences, dict(unassigned), tt)


def _best_of(found: Solution, start: Solution, jobs: list[Job]) -> Solution:
    """The search's plan unless the plan it started from serves more (weighted by priority like the
    prizes), or as much for less travel: the result is never worse than its start. PyVRP's best
    already is in PyVRP's cost; this also holds after re-timing with the real hour bands."""
    weight = {j.id: 20 + max(0, min(100, j.priority)) for j in jobs}

    def key(sol: Solution) -> tuple[int, int]:
        return sum(weight[s.job] for r in sol.routes for s in r.stops), -sol.travel

    return start if key(start) > key(found) else found


def _sort_out(jobs: Sequence[Job], working: list[Vehicle],
              tt: TimeBands) -> tuple[list[Job], dict[int, set[int]], dict[int, str]]:
    """The jobs worth giving PyVRP (with their windows cleaned), which technicians can do each, and
    the jobs nobody can do with the reason."""
    unassigned: dict[int, str] = {}
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
    return plannable, compat, unassigned


def _budget(left: float, *, round_: int, rounds: int) -> float:
    """This round's share of the time left."""
    return max(0.05, left * FIRST_PASS_SHARE if round_ == 0 and rounds > 1 else left / 2 if round_ < rounds - 1
               else left)


def _run(model, budget: float, *, seed: int, initial, converged_iterations: int | None,
         scale: float = PENALTY_SCALE, short: bool = False, history: int | None = None):
    """PyVRP from the given start. With `converged_iterations` it stops once that many iterations
    brought nothing better. Without (anytime), a search that stalls for STALL_ITERATIONS before the
    budget ends starts again from PyVRP's own start with another seed, and the better plan is kept:
    the iterated local search stays in the basin it starts in (Solomon: stalled by ~5,000
    iterations in VROOM's basin or its own, each better on different instances)."""
    end = now() + budget
    best, start, k = None, initial, 0
    while True:
        stop = MultipleCriteria([_Until(max(end, now() + 0.05)),
                                 NoImprovement(converged_iterations or STALL_ITERATIONS)])
        result = _ils(model.data, stop, seed=seed + k, initial=start, scale=scale, short=short, history=history)
        if best is None or (result.is_feasible(), -result.cost()) > (best.is_feasible(), -best.cost()):
            best = result
        if converged_iterations or end - now() < 0.2:
            return best
        start, k = None, k + 1


def _penalties(data: pyvrp.ProblemData, scale: float = PENALTY_SCALE) -> tuple[list[float], float, float]:
    """Starting penalties on the problem's own scale: a unit of load over capacity costs `scale`
    average edges divided by the average delivery of that dimension, a unit of time warp costs
    `scale` units of travel (durations are the distances here). pyvrp.solve starts every
    penalty at the midpoint of [0.1, 100,000], 50,000 per second late, which keeps the search out of
    infeasible plans for tens of thousands of iterations (they shrink by 10 % per 500 plans); chosen
    on the tuning days and Solomon subset (docs/mapping.md, "Third pass", "Hour bands and penalties")."""
    d = np.asarray(data.distance_matrix(0), dtype=np.float64)[data.num_depots:, data.num_depots:]
    edge = max(1.0, float(d.mean())) if d.size else 1.0
    clients = data.clients()
    loads = [max(1.0, float(np.mean([c.delivery[k] for c in clients]))) for k in range(data.num_load_dimensions)]
    # The load dimensions (job limits, capacities) keep PENALTY_SCALE whatever the time scale: at 1 a
    # technician with room for one job was planned with two and the weighted job lost to the near one
    # (mapping/tests/test_district_weights.py); the hour bands' lower scale is for time warp only.
    return [PENALTY_SCALE * edge / x for x in loads], float(scale), float(scale)


def _ils(data: pyvrp.ProblemData, stop, *, seed: int, initial: pyvrp.Solution | None,
         scale: float = PENALTY_SCALE, short: bool = False, history: int | None = None) -> pyvrp.Result:
    """pyvrp.solve with default parameters, except the starting penalties (`_penalties`) and, on a
    short budget, a smaller neighbourhood and perturbation (cheaper iterations, more of them)."""
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    near, most = (SHORT_NUM_NEIGHBOURS, SHORT_MAX_PERTURBATIONS) if short else (NUM_NEIGHBOURS, MAX_PERTURBATIONS)
    neighbours = compute_neighbours(data, NeighbourhoodParams(num_neighbours=near))
    ls = LocalSearch(data, rng, neighbours, PerturbationManager(PerturbationParams(1, most)))
    for op in OPERATORS:
        if op.supports(data):
            ls.add_operator(op(data))
    pm = pyvrp.PenaltyManager(_penalties(data, scale), pyvrp.PenaltyParams())
    if initial is None:
        initial = ls(pyvrp.Solution.make_random(data, rng), pm.max_cost_evaluator(), exhaustive=True)
    params = pyvrp.IteratedLocalSearchParams(**({"history_length": history} if history else {}))
    return pyvrp.IteratedLocalSearch(data, pm, ls, initial, params).run(
        stop, collect_stats=False)


def _construct(fleet: list[Vehicle], jobs: list[Job], tt: TimeBands, budget: float = 0.0) -> dict[int, list[int]]:
    """A first plan when there is none stored: VROOM's fast construction (exploration level 0). With
    skills, PyVRP's own start converges far more slowly (30 technicians x 300 jobs, 5,000 iterations:
    91,736 s serving 299 from its own start, 88,527 s serving 300 from this one). Not used where
    every technician can do every job (`VROOM_START_FOR_ALIKE`): there PyVRP's own start, with the
    restarts of `_run`, does better (Solomon, Gehring-Homberger; docs/mapping.md). With a
    `budget`, VROOM at CONSTRUCT_LEVEL gets that long (wall clock: VROOM's own timeout) and the better
    of the two plans (more jobs, then less travel) is the start. With hour bands VROOM plans with the
    bands of the day weighted by time, as the first band round does."""
    from mapping.solver_vroom import solve_vroom

    matrix = (tt.matrices[0] if len(tt.starts) == 1 else
              tt.mean(min(v.shift[0] for v in fleet), max(v.shift[1] for v in fleet)))
    first = solve_vroom(fleet, jobs, matrix, exploration_level=0)
    if CONSTRUCT_LEVEL and budget >= 0.1:
        deeper = solve_vroom(fleet, jobs, matrix, exploration_level=CONSTRUCT_LEVEL, timeout_s=budget)
        if (-len(deeper.unassigned), -deeper.travel) > (-len(first.unassigned), -first.travel):
            first = deeper
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
