"""The load suite's people, in bulk, on the database named by DATABASE_URL (never the test's own).

`python -m proof.load_seed accounts TECHS OFFICE PORTAL`: technicians (user, technician group,
Technician on shift all day), dispatchers (staff, dispatcher group) and portal users (client group,
each a user of one of the demo's clients, so their pages show real visits), made with bulk_create
and ONE password hash shared by all (no per-user hashing cost). Idempotent: a second run adds none.

`python -m proof.load_seed outbox`: every outbox row that is due, run here (CELERY_TASK_ALWAYS_EAGER).

`python -m proof.load_seed credentials OUT.json`: a knox token for every load technician and
dispatcher and a signed-in session for every dispatcher and portal user, written to OUT.json
(sessions are rows made directly: no sign-in request, no password check).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, time, timedelta

PREFIX = "load-"


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
    django.setup()


def _users(role: str, names: list[str], *, staff: bool = False) -> list:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    user_model = get_user_model()
    password = make_password(os.environ.get("LOAD_PASSWORD", "Load-Correct-Horse-42"))  # once for all
    user_model.objects.bulk_create([
        user_model(username=name, email=f"{name}@load.example", first_name="Load", last_name=name,
                   is_staff=staff, password=password)
        for name in names])
    users = list(user_model.objects.filter(username__in=names).order_by("id"))
    group = Group.objects.get(name=role)
    user_model.groups.through.objects.bulk_create(
        [user_model.groups.through(user_id=u.pk, group_id=group.pk) for u in users])
    return users


def accounts(techs: int, office: int, portal: int) -> None:
    from django.db import transaction

    from hvaccrm.models import Client, District, Technician

    if Technician.objects.filter(user__username=f"{PREFIX}tech-0").exists():
        return
    districts = list(District.objects.order_by("id"))
    clients = list(Client.objects.filter(anonymised_at__isnull=True).order_by("id"))
    with transaction.atomic():
        tech_users = _users("technician", [f"{PREFIX}tech-{i}" for i in range(techs)])
        Technician.objects.bulk_create([
            Technician(user=u, phone="+48 601 200 300", home_district=districts[i % len(districts)],
                       skills=["split_ac", "heat_pump", "gas_boiler"], shift_start=time(0, 0),
                       shift_end=time(23, 59), active=True, on_shift=True)
            for i, u in enumerate(tech_users)])
        _users("dispatcher", [f"{PREFIX}office-{i}" for i in range(office)], staff=True)
        portal_users = _users("client", [f"{PREFIX}portal-{i}" for i in range(portal)])
        Client.users.through.objects.bulk_create([
            Client.users.through(client_id=clients[i % len(clients)].pk, user_id=u.pk)
            for i, u in enumerate(portal_users)])


def outbox_drain() -> int:
    """Run every outbox row that is due (the demo seed's), in this process: the template then starts
    with no work of its own for the workers, so the suite's backlog is the load's."""
    from django.utils import timezone

    from hvaccrm.models import IntegrationLog
    from hvaccrm.outbox_run import outbox_process

    due = IntegrationLog.objects.filter(state__in=["pending", "failed"], next_attempt_at__lte=timezone.now())
    ids = list(due.values_list("pk", flat=True))
    for log_id in ids:
        outbox_process(log_id=log_id)
    return len(ids)


def credentials(out: str) -> None:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from knox.models import AuthToken

    users = get_user_model().objects.filter(username__startswith=PREFIX).order_by("id")
    backend = settings.AUTHENTICATION_BACKENDS[-1]
    store, expires = SessionStore(), timezone.now() + timedelta(days=1)
    tokens, sessions, rows = {}, {}, []
    for user in users:
        if "-portal-" not in user.username:
            tokens[user.username] = AuthToken.objects.create(user)[1]
        if "-tech-" not in user.username:
            key = store._get_new_session_key()
            data = {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: backend,
                    HASH_SESSION_KEY: user.get_session_auth_hash()}
            rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
            sessions[user.username] = key
    Session.objects.bulk_create(rows)

    def named(kind: str, names) -> list[str]:  # load-tech-0, load-tech-1, ... in number order
        return sorted((n for n in names if f"-{kind}-" in n), key=lambda n: int(n.rsplit("-", 1)[1]))

    with open(out, "w", encoding="utf-8") as fh:
        json.dump({
            "devices": [tokens[n] for n in named("tech", tokens)],
            "office": [[tokens[n], sessions[n]] for n in named("office", sessions)],
            "portal": [sessions[n] for n in named("portal", sessions)],
            "day": date.today().isoformat(),
        }, fh)


def main(argv: list[str]) -> None:
    _setup()
    if argv[0] == "accounts":
        accounts(*(int(a) for a in argv[1:4]))
    elif argv[0] == "outbox":
        print(f"load: {outbox_drain()} outbox rows of the seed run")
    elif argv[0] == "credentials":
        credentials(argv[1])
    else:
        raise SystemExit("usage: load_seed accounts TECHS OFFICE PORTAL | outbox | credentials OUT.json")


if __name__ == "__main__":
    main(sys.argv[1:])
