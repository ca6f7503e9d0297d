"""The core's writes. Every change to core rows goes through one of these functions."""

from __future__ import annotations

from hvaccrm.services.access import access_record
from hvaccrm.services.districts import district_weight_check, district_weight_set
from hvaccrm.services.fgas import visit_close
from hvaccrm.services.jobs import (
    job_assign,
    job_create,
    job_details_set,
    job_eta_set,
    job_feedback_give,
    job_location_set,
    job_reschedule,
    job_transition,
)
from hvaccrm.services.maintenance import (
    agreement_create,
    agreement_end,
    agreement_renew,
    agreements_roll,
    maintenance_visits_plan,
    visit_move_to_day,
)
from hvaccrm.services.outbox import (
    integration_switch_set,
    outbox_handler,
    outbox_process,
    outbox_retry,
    outbox_sweep,
    record,
)
from hvaccrm.services.records import (
    client_save,
    equipment_delete,
    equipment_save,
    site_check,
    site_delete,
    site_save,
    technician_save,
)
from hvaccrm.services.users import (
    client_user_add,
    client_user_remove,
    user_active_set,
    user_groups_set,
    user_role_set,
    user_superuser_set,
)

__all__ = [
    "access_record",
    "agreement_create",
    "agreement_end",
    "agreement_renew",
    "agreements_roll",
    "client_save",
    "client_user_add",
    "client_user_remove",
    "district_weight_check",
    "district_weight_set",
    "equipment_delete",
    "equipment_save",
    "integration_switch_set",
    "job_assign",
    "job_create",
    "job_details_set",
    "job_eta_set",
    "job_feedback_give",
    "job_location_set",
    "job_reschedule",
    "job_transition",
    "maintenance_visits_plan",
    "outbox_handler",
    "outbox_process",
    "outbox_retry",
    "outbox_sweep",
    "record",
    "site_check",
    "site_delete",
    "site_save",
    "technician_save",
    "user_active_set",
    "user_groups_set",
    "user_role_set",
    "user_superuser_set",
    "visit_close",
    "visit_move_to_day",
]
