"""Inbound bench: SMS per second through the webhook, with triage (target >= 100/s).

Each request is a signed generic-gateway SMS from one of 50 synthetic clients' numbers in
Mokotów: the signature check, E.164 normalisation, the client match, the rate limit in Redis,
classification and the message with its outbox rows in one transaction (message_send). Every
tenth text is an emergency (gas smell), so the alert rows and safety replies are in the figure.
The synthetic rows are deleted afterwards.

Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_inbound.py
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")

import django

django.setup()

from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from communications import conf  # noqa: E402
from communications.classifier import classify  # noqa: E402
from communications.models import Message  # noqa: E402
from hvaccrm.models import Client, District, IntegrationLog, Site  # noqa: E402

SECRET = "bench-secret"
CLIENTS = 50
MESSAGES = int(os.environ.get("BENCH_INBOUND_MESSAGES", "400"))
TEXTS = ["Klimatyzacja nie chłodzi, proszę o wizytę", "Pompa ciepła głośno pracuje od wczoraj",
         "Proszę o przegląd kotła w przyszłym tygodniu", "Z jednostki wewnętrznej kapie woda",
         "Rekuperator piszczy, co robić?", "Czy mogę przełożyć wizytę na piątek?",
         "Dziękuję za szybką naprawę", "Kocioł pokazuje błąd E04", "Jaki jest koszt serwisu?",
         "Czuć gaz w kuchni przy kotle!"]


def main() -> None:
    conf.INBOUND_SMS_SECRET = SECRET
    conf.INBOUND_RATE_PER_MINUTE = 10_000  # the bench measures throughput, not the limit
    classify("warm-up")
    mokotow = District.objects.filter(slug="mokotow").first()
    clients = []
    for i in range(CLIENTS):
        c = Client.objects.create(name=f"Bench inbound {i}", phone=f"+48 600 {100 + i:03d} {i:03d}", is_synthetic=True)
        Site.objects.create(client=c, street=f"Puławska {i}", district=mokotow, latitude=52.19, longitude=21.02)
        clients.append(c)
    http = HttpClient()
    requests = []
    for n in range(MESSAGES):
        c = clients[n % CLIENTS]
        body = json.dumps({"type": "message", "from": c.phone, "text": TEXTS[n % len(TEXTS)], "id": f"b{n}"}).encode()
        requests.append((body, hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()))
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
    statuses: dict[int, int] = {}
    try:
        # No publish to the broker per row: the sweep would pick the rows up; the bench measures the webhook.
        with override_settings(OUTBOX_PUBLISH_ON_COMMIT=False, ALLOWED_HOSTS=["*"]):
            started = time.monotonic()
            for body, signature in requests:
                r = http.post("/communications/inbound/sms/", body, content_type="application/json",
                              HTTP_X_SIGNATURE=signature)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            elapsed = time.monotonic() - started
        saved = Message.objects.filter(conversation__client__in=clients, author_role="client").count()
        print(f"inbound SMS through the webhook with triage: {MESSAGES / elapsed:.0f} messages/s "
              f"({1000 * elapsed / MESSAGES:.1f} ms each, {MESSAGES} requests, answers {statuses}, "
              f"{saved} messages saved; target >= 100/s)")
    finally:
        ids = [str(i) for i in Message.objects.filter(conversation__client__in=clients).values_list("pk", flat=True)]
        IntegrationLog.objects.filter(object_type="communications.message", object_id__in=ids).delete()
        Client.objects.filter(pk__in=[c.pk for c in clients]).delete()


if __name__ == "__main__":
    main()
