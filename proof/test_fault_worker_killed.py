"""Suite 1, worker killed (issue 20): a burst of client messages (a tenth emergencies, three
tenths urgent with coordinates) through the real path (message_send -> outbox -> a real Celery
worker on the default and the emergency queue); the worker is `kill -9`ed after about a fifth of
the rows, a new one started, and the sweep run until nothing is owed. Nothing is lost, nothing is
done twice, and the SMS gateway sees a delivery again only when the kill hit it mid-send, with the
same idempotency reference (the kill is aimed at an SMS in flight). Short setting: 100 messages
(10 emergencies, 30 urgent), the kill after 20 rows; FULL=1: 1,000 (100, 300), after 200."""

from __future__ import annotations

import pytest

from hvaccrm.tests.celery_support import celery_published
from proof.faults_support import FULL, SIZES, Gateway, burst_check, burst_run

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(2400 if FULL else 900)]


def test_a_worker_killed_mid_burst_loses_nothing_and_doubles_nothing(settings, tmp_path):
    gateway = Gateway(delay=0.3)
    try:
        with celery_published(settings):
            outcome = burst_run(tmp_path=tmp_path, gateway=gateway, kill=True)
            figures = burst_check(outcome, gateway, allowed_resends=0)
    finally:
        gateway.close()
    assert outcome.kills == 1 and figures["hit_mid_send"] >= 1 and figures["resent"] >= 1  # hit mid-send
    f = {**outcome.figures, **figures}
    print(f"\nPROOF worker killed: {SIZES['total']} messages ({SIZES['emergencies']} emergencies, "
          f"{SIZES['urgent']} urgent located) sent in {outcome.burst.sent_seconds:.1f} s; kill -9 at "
          f"{f['rows_at_kill']} rows succeeded ({f['kill_at_seconds']:.1f} s in); {f['rows']} outbox rows all "
          f"succeeded after {outcome.sweeps} sweeps ({f['drain_seconds']:.1f} s after the restart); {f['alerts']} "
          f"alerts; {f['notifications']} notifications, none doubled; {f['sms']} SMS, {f['gateway_sends']} "
          f"gateway sends ({f['resent']} resent, {f['hit_mid_send']} hit mid-send); {outcome.seconds:.1f} s")
