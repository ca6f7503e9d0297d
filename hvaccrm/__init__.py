"""The HVAC CRM core app and project wiring."""

from __future__ import annotations

from hvaccrm.celery import app as celery_app

__all__ = ["celery_app"]
