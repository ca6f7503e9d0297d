"""Suite 3, database connections cut (issue 20): suite 1's burst and kill again, while a thread
calls `pg_terminate_backend` on every database connection of the workers (named `proof-worker`)
every 2 s. The rows whose transaction was cut are retried by the sweep: no loss, no duplicate
(alerts, notifications), every job at its message's point; a delivery cut between the gateway's
answer and its "sent" commit is sent again with the same reference, for the gateway to drop."""

from __future__ import annotations

import pytest

from hvaccrm.tests.celery_support import celery_published
from proof.faults_support import FULL, SIZES, ConnectionCutter, Gateway, burst_check, burst_run

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(2400 if FULL else 900)]


def test_database_connections_cut_every_two_seconds_lose_nothing_and_double_nothing(settings, tmp_path):
    gateway, cutter = Gateway(delay=0.3), ConnectionCutter(every=2.0)
    try:
        with celery_published(settings):
            outcome = burst_run(tmp_path=tmp_path, gateway=gateway, kill=True, cutter=cutter)
            # A cut can hit a delivery mid-send as a kill can: each round may cost one resend.
            figures = burst_check(outcome, gateway, allowed_resends=cutter.rounds)
    finally:
        gateway.close()
    assert cutter.cut > 0 and outcome.kills == 1
    f = {**outcome.figures, **figures}
    print(f"\nPROOF connections cut: {SIZES['total']} messages, {cutter.cut} worker connections terminated in "
          f"{cutter.rounds} rounds (every {cutter.every:.0f} s) and kill -9 at {f['rows_at_kill']} rows; "
          f"{f['rows']} outbox rows all succeeded after {outcome.sweeps} sweeps; {f['alerts']} alerts; "
          f"{f['notifications']} notifications, none doubled; {f['sms']} SMS, {f['gateway_sends']} gateway sends "
          f"({f['resent']} resent with the same reference); {outcome.seconds:.1f} s")
