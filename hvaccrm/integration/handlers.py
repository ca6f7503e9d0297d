"""Outbox handlers: one subsystem's event becomes another subsystem's work (filled by issue 6)."""

from __future__ import annotations
