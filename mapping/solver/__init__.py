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
- travel times that depend on the hour (`TimeBands`): each technician's profile uses the bands met
  during their shift, weighted by time. After solving, every route is re-timed with the band of each
  leg's departure; a technician whose route breaks a window or the shift that way gets the slowest
  band met during the shift and the search goes on from the current plan; whatever still breaks is
  dropped and then put back where it fits with the real times (`search._repair`), so the returned
  plan always holds with the real times. The returned times (ETAs) are those real times.
All times are integers in the matrix's unit (seconds for the CRM, scaled distance for Solomon).
"""

from __future__ import annotations

from mapping.solver.model import (
    CONVERGED_ITERATIONS,
    DAY_S,
    DEFAULT_TIMEOUT_S,
    FIRST_PASS_SHARE,
    MAX_TIME,
    Job,
    RoutePlan,
    Solution,
    SolverInputError,
    Stop,
    TimeBands,
    Vehicle,
    as_bands,
)
from mapping.solver.search import nearest_neighbour, solve
from mapping.solver.timing import _check, explain_unassigned, schedule

__all__ = [
    "CONVERGED_ITERATIONS",
    "DAY_S",
    "DEFAULT_TIMEOUT_S",
    "FIRST_PASS_SHARE",
    "MAX_TIME",
    "Job",
    "RoutePlan",
    "Solution",
    "SolverInputError",
    "Stop",
    "TimeBands",
    "Vehicle",
    "_check",
    "as_bands",
    "explain_unassigned",
    "nearest_neighbour",
    "schedule",
    "solve",
]
