"""GPS tracking: validate and store a technician's pings, keep the last position, push it, thin out
old points. Tracking follows art. 22(3) of the Polish Labour Code: positions only during the shift,
nothing in private mode."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hvaccrm.errors import ServiceError
from hvaccrm.geo import haversine_m
from hvaccrm.models import ServiceJob, Technician
from hvaccrm.models.jobs import JobStatus
from hvaccrm.realtime import groups as g
from hvaccrm.realtime.coalesce import CoalescingPush
from hvaccrm.services import job_eta_set
from mapping import conf
from mapping.models import LocationPing
from mapping.travel import matrix_haversine

# A cleared position (private mode, end of shift) outlives, by far, any position still waiting
# in a web process's buffer (one GPS_PUSH_INTERVAL_S).
RESET_MARK_SECONDS = 60


class PingRejected(ServiceError):
    """A ping failed validation; `code` is the reason (also in fields["reason"])."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, code=reason, fields={"reason": [reason]})
        self.reason = reason


def technician_on_shift_now(*, technician: Technician, now: datetime | None = None) -> bool:
    """On shift by the flag AND within the shift hours (local time), with 15 minutes of grace."""
    if not technician.active or not technician.on_shift:
        return False
    local = timezone.localtime(now or timezone.now())
    minutes = local.hour * 60 + local.minute
    start = technician.shift_start.hour * 60 + technician.shift_start.minute - 15
    end = technician.shift_end.hour * 60 + technician.shift_end.minute + 15
    return start <= minutes <= end


def _validate(*, technician: Technician, latitude: float, longitude: float, accuracy: float,
              speed: float | None, heading: float | None, device_time: datetime, now: datetime) -> None:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise PingRejected("out_of_range", _("Latitude or longitude out of range."))
    if speed is not None and not 0 <= speed <= 100:
        raise PingRejected("out_of_range", _("Speed out of range."))
    if heading is not None and not 0 <= heading <= 360:
        raise PingRejected("out_of_range", _("Heading out of range."))
    if accuracy < 0:
        raise PingRejected("out_of_range", _("Accuracy out of range."))
    if accuracy > conf.GPS_MAX_ACCURACY_M:
        raise PingRejected("inaccurate", _("The position is too inaccurate (%(a).0f m).") % {"a": accuracy})
    if device_time > now + timedelta(seconds=conf.GPS_MAX_FUTURE_S):
        raise PingRejected("future_time", _("The device time is in the future."))
    if device_time < now - timedelta(seconds=conf.GPS_MAX_AGE_S):
        raise PingRejected("stale_time", _("The device time is too old."))
    last_at = technician.last_position_at
    if last_at is not None and technician.last_latitude is not None:
        seconds = abs((device_time - last_at).total_seconds())
        metres = haversine_m(technician.last_latitude, technician.last_longitude, latitude, longitude)
        # Both fixes may be off by their accuracy: only the distance beyond that counts.
        slack = accuracy + (technician.last_accuracy_m or 0)
        if metres - slack > conf.GPS_MAX_SPEED_MPS * max(seconds, 1.0):
            raise PingRejected(
                "implausible_jump",
                _("Implausible jump: %(m).0f m in %(s).0f s.") % {"m": metres, "s": seconds},
            )


def location_ping_ingest(
    *,
    technician: Technician,
    latitude: float,
    longitude: float,
    accuracy: float,
    device_time: datetime,
    seq: int,
    speed: float | None = None,
    heading: float | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store one ping. Returns {"stored": bool, "status": "stored"|"duplicate"|"private"|"off_shift",
    "ping": id|None}; a ping that fails validation raises PingRejected (code = reason).

    `technician` may be a snapshot kept between pings (a socket keeps its user's, so a position
    costs no read): it is checked as it stands, and the write stores the ping only if the row still
    holds the flags, shift hours and last position it was checked against (_ping_store). Anything
    else (private mode or the end of a shift meanwhile, a position from another socket, a resent
    seq, a rejection) is decided again from a fresh read, in the order below, and the snapshot is
    refreshed in place."""
    now = now or timezone.now()
    if timezone.is_naive(device_time):
        device_time = timezone.make_aware(device_time, timezone.UTC)
    position = {"latitude": latitude, "longitude": longitude, "accuracy": accuracy, "speed": speed,
                "heading": heading, "device_time": device_time}
    if not technician.private_mode and technician_on_shift_now(technician=technician, now=now):
        try:
            _validate(technician=technician, now=now, **position)
        except PingRejected:
            pass  # perhaps against a stale snapshot: decided again below from a fresh read
        else:
            ping_id = _ping_store(technician=technician, seq=seq, **position)
            if ping_id is not None:
                return _stored(technician, ping_id=ping_id, seq=seq, now=now, **position)
    for _attempt in range(3):
        resent = _technician_reload(technician, seq=seq)
        if technician.private_mode:
            _push(technician, private=True)
            return {"stored": False, "status": "private", "ping": None}
        if not technician_on_shift_now(technician=technician, now=now):
            return {"stored": False, "status": "off_shift", "ping": None}
        if resent:
            return {"stored": False, "status": "duplicate", "ping": resent}
        _validate(technician=technician, now=now, **position)
        ping_id = _ping_store(technician=technician, seq=seq, **position)
        if ping_id is not None:
            return _stored(technician, ping_id=ping_id, seq=seq, now=now, **position)
    # The row changed between each read and its write (three times): let the device send it again.
    raise PingRejected("conflict", _("The position could not be stored; send it again."))


def _stored(technician: Technician, *, ping_id: int, seq: int, now: datetime, latitude: float, longitude: float,
            accuracy: float, speed: float | None, heading: float | None, device_time: datetime) -> dict[str, Any]:
    """After the write: the snapshot follows the row (the statement moved it only for a newer fix)."""
    if technician.last_position_at is None or technician.last_position_at <= device_time:
        technician.last_latitude, technician.last_longitude = latitude, longitude
        technician.last_accuracy_m, technician.last_position_at = accuracy, device_time
    ping = LocationPing(pk=ping_id, technician_id=technician.pk, latitude=latitude, longitude=longitude,
                        accuracy_m=accuracy, speed_mps=speed, heading=heading, device_time=device_time, seq=seq)
    transaction.on_commit(lambda: _push(technician, ping=ping))
    if device_time >= now - timedelta(seconds=60):
        technician_eta_refresh(technician_id=technician.pk, latitude=latitude, longitude=longitude, now=now)
    return {"stored": True, "status": "stored", "ping": ping_id}


_SNAPSHOT = ("active", "on_shift", "private_mode", "shift_start", "shift_end", "last_latitude", "last_longitude",
             "last_accuracy_m", "last_position_at")


def _technician_reload(technician: Technician, *, seq: int) -> int | None:
    """Refresh the snapshot's flags, shift hours and last position in place (they change while a
    socket stays open); returns the id of the ping already stored with this seq, if any. One
    statement, written out: the ORM's query building was a third of a position's CPU."""
    pings, techs = LocationPing._meta.db_table, Technician._meta.db_table
    sql = (f"SELECT {', '.join(_SNAPSHOT)}, (SELECT id FROM {pings} WHERE technician_id = %s AND seq = %s)"  # noqa: S608 - our tables and columns, values are parameters
           f" FROM {techs} WHERE id = %s")
    with connection.cursor() as cur:
        cur.execute(sql, [technician.pk, seq, technician.pk])
        row = cur.fetchone()
    if row is None:
        raise Technician.DoesNotExist(f"technician {technician.pk} does not exist")
    for name, value in zip(_SNAPSHOT, row, strict=False):
        setattr(technician, name, value)
    return row[-1]


_eta_tried: dict[int, float] = {}  # technician id -> when this process last asked the shared gate


def technician_eta_refresh(*, technician_id: int, latitude: float, longitude: float,
                           now: datetime | None = None) -> ServiceJob | None:
    """While a technician drives to a job (en route), its ETA follows the live position: at most
    one recomputation a minute per technician, saved when it moves by two minutes or more."""
    # The gate is shared by the web processes (Redis); this process first asks its own memory, so a
    # position costs no Redis round trip in the 59 seconds of each minute when the answer is no. (A
    # minute refused here because another process took it may wait up to one more minute.)
    last = _eta_tried.get(technician_id)
    if last is not None and time.monotonic() - last < 60:
        return None
    _eta_tried[technician_id] = time.monotonic()
    if not cache.add(f"mapping:eta-refresh:{technician_id}", 1, timeout=60):
        return None
    now = now or timezone.now()
    job = (ServiceJob.objects.filter(technician_id=technician_id, status=JobStatus.EN_ROUTE, latitude__isnull=False)
           .select_related("district").order_by("status_changed_at").first())
    if job is None:
        return None
    slug = job.district.slug if job.district_id else None
    seconds = matrix_haversine([(latitude, longitude), (job.latitude, job.longitude)], [None, slug],
                               hours=(timezone.localtime(now).hour,), detour=conf.ROUTE_DETOUR_FACTOR)[0][1]
    eta = now + timedelta(seconds=seconds)
    if job.eta is not None and abs((eta - job.eta).total_seconds()) < 120:
        return None
    return job_eta_set(job=job, eta=eta)


def _ping_store(*, technician: Technician, latitude: float, longitude: float, accuracy: float,
                speed: float | None, heading: float | None, device_time: datetime, seq: int) -> int | None:
    """The hot path of tracking in one statement and one transaction: insert the ping and, when it is
    the newest fix, move the technician's last position; but only while the technician's row is as
    `technician` says (active, on shift, not private, the same shift hours and last position, which
    the caller checked the ping against) and no ping of this seq is stored. The row is locked first,
    so private mode or the end of a shift committed meanwhile is seen (the statement then stores
    nothing) and cannot be undone by this position. None: nothing stored (the caller reads afresh).
    Telemetry does not wait for the WAL flush (synchronous_commit off for this transaction only): a
    crash may lose the last few pings, which the next ones replace; nothing else is affected."""
    pings, techs = LocationPing._meta.db_table, Technician._meta.db_table
    sql = f"""
        WITH cfg AS (SELECT set_config('synchronous_commit', 'off', true)),
        t AS (
            SELECT id FROM {techs}
            WHERE id = %s AND active AND on_shift AND NOT private_mode AND shift_start = %s AND shift_end = %s
              AND last_latitude IS NOT DISTINCT FROM %s::double precision
              AND last_longitude IS NOT DISTINCT FROM %s::double precision
              AND last_accuracy_m IS NOT DISTINCT FROM %s::double precision
              AND last_position_at IS NOT DISTINCT FROM %s::timestamptz
            FOR UPDATE),
        ins AS (
            INSERT INTO {pings} (technician_id, latitude, longitude, accuracy_m, speed_mps, heading,
                                 device_time, seq, received_at, reduced)
            SELECT t.id, %s, %s, %s, %s::double precision, %s::double precision, %s, %s, now(), false FROM t
            ON CONFLICT (technician_id, seq) DO NOTHING
            RETURNING id),
        upd AS (
            UPDATE {techs} SET last_latitude = %s, last_longitude = %s, last_accuracy_m = %s,
                               last_position_at = %s
            WHERE id = %s AND (last_position_at IS NULL OR last_position_at <= %s)
              AND EXISTS (SELECT 1 FROM ins))
        SELECT ins.id FROM ins, cfg"""  # noqa: S608 - table names are ours, values are parameters
    t = technician
    params = [t.pk, t.shift_start, t.shift_end, t.last_latitude, t.last_longitude, t.last_accuracy_m, t.last_position_at,
              latitude, longitude, accuracy, speed, heading, device_time, seq,
              latitude, longitude, accuracy, device_time, t.pk, device_time]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    return row[0] if row else None


def _interval() -> float:
    return conf.GPS_PUSH_INTERVAL_S


def _reset_key(technician_id: int) -> str:
    return f"mapping:loc-reset:{technician_id}"


def _drop_superseded(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Just before a batch leaves: drop positions taken before their technician went private or
    ended the shift. That change may have been made on another web process (the POST of the
    technician app) and pushed already, while this process still held the position; sent after
    it, the position would put the marker back on the map. One Redis round trip per batch."""
    keys = {i["technician"]: _reset_key(i["technician"]) for i in items if "latitude" in i}
    marks = cache.get_many(list(keys.values())) if keys else {}
    if not marks:
        return items
    return [i for i in items if "latitude" not in i or i["received"] > marks.get(keys[i["technician"]], 0)]


def _newest_ping(items: list[dict[str, Any]]) -> int:
    return max((i["ping"] for i in items if i.get("ping")), default=0)


# Every position goes to the dispatch room coalesced: per web process, the latest of each
# technician, one `locations.updated` a GPS_PUSH_INTERVAL_S at most (0: each position at once).
location_pushes = CoalescingPush(event_type="locations.updated", group=g.dispatch_group(), items_key="locations",
                                 interval=_interval, row_id=_newest_ping, prepare=_drop_superseded)


def _push(technician: Technician, *, ping: LocationPing | None = None, private: bool = False,
          urgent: bool = False) -> None:
    """The technician's latest state to dispatch, in the next coalesced batch (at once if urgent)."""
    data: dict[str, Any] = {"technician": technician.pk, "private": private, "received": round(time.time(), 3)}
    if ping is not None:
        data.update(latitude=ping.latitude, longitude=ping.longitude, accuracy=ping.accuracy_m,
                    speed=ping.speed_mps, heading=ping.heading, at=ping.device_time.isoformat(), ping=ping.pk)
    location_pushes.put(technician.pk, data, urgent=urgent)


def _cleared(technician: Technician, *, private: bool) -> None:
    """After commit of private mode on or the end of a shift: positions taken before now are
    superseded everywhere (_drop_superseded), and the map hears it at once."""
    cache.set(_reset_key(technician.pk), round(time.time(), 3), timeout=RESET_MARK_SECONDS)
    _push(technician, private=private, urgent=True)


def technician_private_mode_set(*, technician: Technician, private: bool) -> Technician:
    """Private mode on: nothing is stored and the map shows "private"; the last position is cleared."""
    with transaction.atomic():
        fields: dict[str, Any] = {"private_mode": private}
        if private:
            fields.update(last_latitude=None, last_longitude=None, last_accuracy_m=None, last_position_at=None)
        Technician.objects.filter(pk=technician.pk).update(**fields)
        technician.refresh_from_db()
        if private:
            transaction.on_commit(lambda: _cleared(technician, private=True))
        else:
            transaction.on_commit(lambda: _push(technician, private=False, urgent=True))
    return technician


def gps_retention_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Pings older than GPS_RETENTION_DAYS are thinned to one per GPS_REDUCED_INTERVAL_MIN per
    technician (the first of each interval is kept); reduced points older than GPS_PURGE_DAYS go."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.GPS_RETENTION_DAYS)
    purge_before = now - timedelta(days=conf.GPS_PURGE_DAYS)
    bucket = conf.GPS_REDUCED_INTERVAL_MIN * 60
    table = LocationPing._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        purged, _ = LocationPing.objects.filter(device_time__lt=purge_before).delete()
        # An interval already reduced in an earlier run keeps its kept point (reduced first).
        cur.execute(
            f"""
            DELETE FROM {table} WHERE id IN (
              SELECT id FROM (
                SELECT id, row_number() OVER (
                  PARTITION BY technician_id, floor(extract(epoch FROM device_time) / %s)
                  ORDER BY reduced DESC, device_time, id) AS rn
                FROM {table} WHERE device_time < %s
              ) ranked WHERE rn > 1
            )""",  # noqa: S608 - the table name is ours, values are parameters
            [bucket, cutoff],
        )
        thinned = cur.rowcount
        kept = LocationPing.objects.filter(device_time__lt=cutoff, reduced=False).update(reduced=True)
    return {"deleted": thinned, "reduced": kept, "purged": purged}


def technician_shift_set(*, technician: Technician, on_shift: bool) -> Technician:
    """The technician starts or ends the shift (from the technician app). Ending it clears the last
    position: positions are recorded, and shown, only during the shift."""
    with transaction.atomic():
        fields: dict[str, Any] = {"on_shift": on_shift}
        if not on_shift:
            fields.update(last_latitude=None, last_longitude=None, last_accuracy_m=None, last_position_at=None)
        Technician.objects.filter(pk=technician.pk).update(**fields)
        technician.refresh_from_db()
        if on_shift:
            transaction.on_commit(lambda: _push(technician, private=technician.private_mode, urgent=True))
        else:
            transaction.on_commit(lambda: _cleared(technician, private=technician.private_mode))
    return technician


def location_history_record(*, technician: Technician, latitude: float, longitude: float, accuracy: float,
                            device_time: datetime, seq: int, now: datetime | None = None) -> dict[str, Any]:
    """A position the phone recorded while offline: kept as history only (it never moves the last
    position nor an ETA), and dropped when it was taken outside the shift hours or in private mode.
    Returns {"stored": bool, "status": "stored"|"duplicate"|"private"|"off_shift"|"too_old"}."""
    now = now or timezone.now()
    if timezone.is_naive(device_time):
        device_time = timezone.make_aware(device_time, timezone.UTC)
    technician = Technician.objects.get(pk=technician.pk)
    if technician.private_mode:
        return {"stored": False, "status": "private"}
    if device_time > now + timedelta(seconds=conf.GPS_MAX_FUTURE_S):
        raise PingRejected("future_time", _("The device time is in the future."))
    if device_time < now - timedelta(days=conf.GPS_RETENTION_DAYS):
        return {"stored": False, "status": "too_old"}
    # The shift flag as it was then is not kept; the shift hours of that moment are the rule.
    if not technician.active or not technician_on_shift_now(
            technician=Technician(active=True, on_shift=True, shift_start=technician.shift_start,
                                  shift_end=technician.shift_end), now=device_time):
        return {"stored": False, "status": "off_shift"}
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or accuracy < 0:
        raise PingRejected("out_of_range", _("Latitude or longitude out of range."))
    with transaction.atomic():
        _ping, created = LocationPing.objects.get_or_create(
            technician=technician, seq=seq,
            defaults={"latitude": latitude, "longitude": longitude, "accuracy_m": accuracy,
                      "device_time": device_time})
    return {"stored": created, "status": "stored" if created else "duplicate"}
