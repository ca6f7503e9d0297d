"""Mapping's writes: district boundaries, GPS tracking, route optimisation, scheduling, geocoding."""

from __future__ import annotations

from mapping.services.districts import districts_load, districts_parse, name_normalise
from mapping.services.geocoding import address_geocode
from mapping.services.routing import day_plan, day_replan, horizon_plan, job_locate
from mapping.services.scheduling import job_assign_slot, maintenance_jobs_create, slot_accept, slot_propose
from mapping.services.sites import site_location_set
from mapping.services.tracking import (
    PingRejected,
    gps_retention_apply,
    location_history_record,
    location_ping_ingest,
    technician_private_mode_set,
    technician_shift_set,
)
from mapping.services.work import job_complete, job_step

__all__ = [
    "PingRejected",
    "address_geocode",
    "day_plan",
    "day_replan",
    "districts_load",
    "districts_parse",
    "gps_retention_apply",
    "horizon_plan",
    "job_assign_slot",
    "job_complete",
    "job_locate",
    "job_step",
    "location_history_record",
    "location_ping_ingest",
    "maintenance_jobs_create",
    "name_normalise",
    "site_location_set",
    "slot_accept",
    "slot_propose",
    "technician_private_mode_set",
    "technician_shift_set",
]
