"""The Celery app of the poison suite's worker (`celery -A proof.faults_worker worker`): the
project's app plus one poison handler, (audit, proof.exit), that takes the worker process down
as a segfaulting library or the OOM killer would."""

from __future__ import annotations

import os

from celery import signals

from hvaccrm.celery import app

__all__ = ["app"]


@signals.worker_init.connect
def _poison_handler_register(**_kwargs) -> None:
    from hvaccrm.services.outbox import outbox_handler

    outbox_handler("audit", "proof.exit")(lambda row: os._exit(3))
