"""The data consistency report: what is out of step between the database, the outbox, the vector
store, the notifications and the caches. Reads only; repairs are in audit.services.

Each finding kind is one function returning the objects concerned; the report lists the
non-empty ones as {"kind", "label", "count", "objects", "repairable", "action"}. Objects are
listed up to OBJECT_LIMIT per kind (the count is exact).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from audit import conf
from audit.health import HEALTH_CACHE_KEY, health_cached
from hvaccrm.models import IntegrationLog
from hvaccrm.selectors import job_list_open, technician_list_on_shift

logger = logging.getLogger(__name__)

OBJECT_LIMIT = 500
LOG = IntegrationLog._meta.db_table
MESSAGE_TYPE = "communications.message"
# Caches audit owns, and how old their content may be before it misleads a reader.
CACHE_MAX_AGE = {HEALTH_CACHE_KEY: 3 * 300}


@dataclass(frozen=True)
class Found:
    count: int
    objects: list[Any]
    unrepairable: list[Any] | None = None  # objects of a repairable kind that repair cannot fix


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _since(params: dict) -> Any:
    return timezone.now() - timedelta(days=params.get("window_days", conf.CONSISTENCY_WINDOW_DAYS))


def _until(params: dict) -> Any:
    return timezone.now() - timedelta(seconds=params.get("grace_seconds", conf.CONSISTENCY_GRACE_SECONDS))


def messages_without_log(params: dict) -> Found | None:
    """Messages whose vector-store row was never written (the outbox lost nothing, so: an import,
    a write around the service, or a log removed by hand)."""
    message = _model("communications.Message")
    if message is None:
        return None
    table = message._meta.db_table
    # System messages (an automatic safety reply) are not synced by contract: client and staff only.
    system = " AND m.author_role <> 'system'" if any(f.name == "author_role" for f in message._meta.fields) else ""
    sql = (
        f"SELECT m.id FROM {table} m WHERE m.created_at >= %s AND m.created_at <= %s{system} "  # noqa: S608 - table names
        f"AND NOT EXISTS (SELECT 1 FROM {LOG} l WHERE l.object_type = %s AND l.object_id = m.id::text "
        "AND l.target = 'prophecy') ORDER BY m.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_since(params), _until(params), MESSAGE_TYPE])
        ids = [r[0] for r in cursor.fetchall()]
    return Found(len(ids), ids[:OBJECT_LIMIT])


def _erased(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Objects erased on purpose (a client's RODO erasure): their vectors must stay gone."""
    sync_state = _model("prophecy.SyncState")
    if sync_state is None or not pairs:
        return set()
    ids = {oid for _t, oid in pairs}
    return set(sync_state.objects.filter(state="erased", object_id__in=ids).values_list("object_type", "object_id"))


def _embedded_vector_table() -> str | None:
    """The embedded store keeps its vectors in our database: then one anti-join answers for all."""
    try:
        from prophecy import conf as prophecy_conf
    except ImportError:
        return None
    model = _model("prophecy.StoredVector")
    if model is None or prophecy_conf.vector_store_backend() != "embedded":
        return None
    return model._meta.db_table


def synced_without_vector(params: dict) -> Found | None:
    """Rows that say the object was stored in the vector store, where the store does not have it.
    Objects whose sync is owed again (a row not yet succeeded) and objects erased on purpose are
    not counted. One row per object: its latest succeeded one."""
    try:
        from prophecy import selectors as ps
    except ImportError:
        return None
    since = _since(params)
    table = _embedded_vector_table()
    if table is not None:
        sql = (
            f"SELECT DISTINCT ON (l.object_type, l.object_id) l.id, l.object_type, l.object_id FROM {LOG} l "  # noqa: S608
            "WHERE l.target = 'prophecy' AND l.state = 'succeeded' AND l.created_at >= %s AND l.object_id <> '' "
            f"AND NOT EXISTS (SELECT 1 FROM {table} v WHERE v.object_type = l.object_type AND v.object_id = l.object_id) "
            f"AND NOT EXISTS (SELECT 1 FROM {LOG} o WHERE o.object_type = l.object_type AND o.object_id = l.object_id "
            "AND o.target = 'prophecy' AND o.state IN ('pending', 'failed')) "
            "ORDER BY l.object_type, l.object_id, l.id DESC"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [since])
            found = {(t, i): log_id for log_id, t, i in cursor.fetchall()}
    else:
        # Another backend (Weaviate): ask it object by object, the most recent first, bounded.
        limit = params.get("vector_check_limit", 2000)
        latest: dict[tuple[str, str], int] = {}
        for log_id, otype, oid in (
            IntegrationLog.objects.filter(target="prophecy", state=IntegrationLog.State.SUCCEEDED, created_at__gte=since)
            .exclude(object_id="").order_by("-created_at").values_list("id", "object_type", "object_id")[:limit]
        ):
            latest.setdefault((otype, oid), log_id)
        owed = set(
            IntegrationLog.objects.filter(target="prophecy", state__in=["pending", "failed"],
                                          object_id__in={oid for _t, oid in latest})
            .values_list("object_type", "object_id")
        )
        found = {}
        for p, log_id in latest.items():
            if p in owed:
                continue
            exists = ps.vector_exists(object_type=p[0], object_id=p[1])
            if exists is None:
                return None  # the store is down: the check is skipped, nothing is re-queued
            if not exists:
                found[p] = log_id
    for pair in _erased(set(found)):
        found.pop(pair, None)
    logs = sorted(found.values())
    return Found(len(logs), logs[:OBJECT_LIMIT])


def emergencies_without_notification(params: dict) -> Found | None:
    """Emergency messages that reached nobody: no notification relates to the message or to its
    emergency alert."""
    message = _model("communications.Message")
    notification = _model("communications.Notification")
    if message is None or notification is None:
        return None
    alert = _model("communications.EmergencyAlert")
    ids = list(
        message.objects.filter(urgency="emergency", created_at__gte=_since(params), created_at__lte=_until(params))
        .values_list("id", flat=True)
    )
    if not ids:
        return Found(0, [])
    keys = {str(i) for i in ids}
    reached = set(
        notification.objects.filter(related_type=MESSAGE_TYPE, related_id__in=keys).values_list("related_id", flat=True)
    )
    if alert is not None:
        alert_type = alert._meta.label_lower
        by_alert = dict(alert.objects.filter(message_id__in=ids).values_list("id", "message_id"))
        if by_alert:
            alerted = notification.objects.filter(related_type=alert_type,
                                                  related_id__in=[str(a) for a in by_alert])
            reached |= {str(by_alert[int(a)]) for a in alerted.values_list("related_id", flat=True)}
    lost = sorted(i for i in ids if str(i) not in reached)
    return Found(len(lost), lost[:OBJECT_LIMIT])


def emergency_bookings_without_notification(params: dict) -> Found | None:
    """Emergency bookings from the portal that reached nobody: no notification relates to an
    emergency alert of their job (the job ids are listed)."""
    booking = _model("portal.Booking")
    alert = _model("communications.EmergencyAlert")
    notification = _model("communications.Notification")
    if booking is None or alert is None or notification is None:
        return None
    ids = list(booking.objects.filter(emergency=True, created_at__gte=_since(params), created_at__lte=_until(params))
               .values_list("job_id", flat=True))
    if not ids:
        return Found(0, [])
    by_alert = dict(alert.objects.filter(job_id__in=ids).values_list("id", "job_id"))
    alerted = notification.objects.filter(related_type=alert._meta.label_lower,
                                          related_id__in=[str(a) for a in by_alert])
    reached = {by_alert[int(a)] for a in alerted.values_list("related_id", flat=True)}
    lost = sorted(i for i in ids if i not in reached)
    return Found(len(lost), lost[:OBJECT_LIMIT])


def jobs_without_location(params: dict) -> Found | None:
    """Open jobs the map cannot show or route: no coordinates or no district."""
    qs = (job_list_open()
          .filter(Q(latitude__isnull=True) | Q(longitude__isnull=True) | Q(district__isnull=True))
          .values_list("id", "site__latitude", "site__district_id"))
    rows = list(qs.order_by("id"))
    fixable = [r[0] for r in rows if r[1] is not None or r[2] is not None]
    unfixable = [r[0] for r in rows if r[1] is None and r[2] is None]
    return Found(len(rows), (fixable + unfixable)[:OBJECT_LIMIT], unrepairable=unfixable[:OBJECT_LIMIT])


def logs_of_deleted_objects(params: dict) -> Found | None:
    """Outbox rows about an object that no longer exists (deleted, or erased on a client's request)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT object_type FROM {LOG} WHERE object_type <> ''")  # noqa: S608
        types = [r[0] for r in cursor.fetchall()]
    ids: list[int] = []
    for otype in types:
        model = _model(otype)
        if model is None:
            continue
        table, pk = model._meta.db_table, model._meta.pk.column
        sql = (
            f"SELECT l.id FROM {LOG} l LEFT JOIN (SELECT {pk}::text AS k FROM {table}) o ON o.k = l.object_id "  # noqa: S608
            "WHERE l.object_type = %s AND o.k IS NULL AND l.object_id <> ''"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [otype])
            ids += [r[0] for r in cursor.fetchall()]
    ids.sort()
    return Found(len(ids), ids[:OBJECT_LIMIT])


def stale_cache_entries(params: dict) -> Found | None:
    """Cached figures older than they may be (the health cache is refreshed every five minutes)."""
    stale = []
    now = timezone.now()
    for key, max_age in CACHE_MAX_AGE.items():
        value = health_cached() if key == HEALTH_CACHE_KEY else None
        if not value:
            continue
        at = parse_datetime(value.get("computed_at") or "")
        if at is None or (now - at).total_seconds() > max_age:
            stale.append(key)
    return Found(len(stale), stale)


def technicians_with_stale_position(params: dict) -> Found | None:
    """Technicians on shift, not in private mode, whose last position is old or missing: the
    nearest-first routing of emergencies cannot count on them."""
    cutoff = timezone.now() - timedelta(minutes=params.get("stale_position_minutes", conf.STALE_POSITION_MINUTES))
    ids = list(
        technician_list_on_shift()
        .filter(Q(last_position_at__isnull=True) | Q(last_position_at__lt=cutoff))
        .order_by("id").values_list("id", flat=True)
    )
    return Found(len(ids), ids[:OBJECT_LIMIT])


def in_app_undelivered(params: dict) -> Found | None:
    """In-app notifications no page of the recipient has received (no open socket when they were
    made, or a push the channel layer refused): the recipient's next page load shows them."""
    delivery = _model("communications.Delivery")
    if delivery is None:
        return None
    # Its own grace, not the report's: a fresh notification waits for its recipient's next page.
    until = timezone.now() - timedelta(minutes=params.get("in_app_minutes", conf.IN_APP_UNDELIVERED_MINUTES))
    ids = list(
        delivery.objects.filter(channel="in_app", state__in=["pending", "sent"], created_at__gte=_since(params),
                                created_at__lte=until)
        .order_by("id").values_list("notification_id", flat=True)
    )
    return Found(len(ids), ids[:OBJECT_LIMIT])


@dataclass(frozen=True)
class Check:
    kind: str
    label: Any
    fn: Callable[[dict], Found | None]
    object_type: str
    repairable: bool
    action: Any


CHECKS = (
    Check("message_without_log", _("Messages with no integration log"), messages_without_log, MESSAGE_TYPE, True,
          _("sync the message to the vector store, the map and alerts")),
    Check("synced_without_vector", _("Logs that say synced, but the vector store has no object"),
          synced_without_vector, "hvaccrm.integrationlog", True, _("owe the sync again and run it")),
    Check("emergency_without_notification", _("Emergencies with no notification"), emergencies_without_notification,
          MESSAGE_TYPE, True, _("dispatch the emergency again")),
    Check("emergency_booking_without_notification", _("Emergency bookings with no notification"),
          emergency_bookings_without_notification, "hvaccrm.servicejob", True, _("dispatch the emergency again")),
    Check("job_without_location", _("Open jobs with no location or district"), jobs_without_location,
          "hvaccrm.servicejob", True, _("locate the job from its site")),
    Check("log_of_deleted_object", _("Logs of deleted objects"), logs_of_deleted_objects, "hvaccrm.integrationlog",
          True, _("remove the orphaned logs")),
    Check("stale_cache", _("Stale cache entries"), stale_cache_entries, "cache", True,
          _("invalidate and recompute")),
    Check("technician_stale_position", _("Technicians on shift with a stale position"),
          technicians_with_stale_position, "hvaccrm.technician", False,
          _("none: the technician's device must report (call them)")),
    Check("in_app_undelivered", _("In-app notifications not yet received"), in_app_undelivered,
          "communications.notification", False, _("none: shown on the recipient's next page load")),
)
CHECKS_BY_KIND = {c.kind: c for c in CHECKS}


def get_data_consistency_report(*, kinds: list[str] | None = None, **params: Any) -> dict[str, Any]:
    """The consistency report: every out-of-step kind found, with its objects."""
    started = time.perf_counter()
    findings, checked, skipped = [], [], []
    for check in CHECKS:
        if kinds and check.kind not in kinds:
            continue
        found = check.fn(params)
        if found is None:
            skipped.append(check.kind)  # the subsystem it needs is not installed here
            continue
        checked.append(check.kind)
        if not found.count:
            continue
        finding = {"kind": check.kind, "label": str(check.label), "object_type": check.object_type,
                   "count": found.count, "objects": found.objects, "repairable": check.repairable,
                   "action": str(check.action)}
        if found.unrepairable:
            finding["unrepairable_objects"] = found.unrepairable
            finding["repairable"] = check.repairable and len(found.unrepairable) < found.count
        findings.append(finding)
    return {"generated_at": timezone.now().isoformat(), "findings": findings, "checked": checked,
            "skipped": skipped, "consistent": not findings,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
