"""Urgency, service and equipment classification of a message or booking text (Polish and English).

Pure Python, no Django: rules over a normalised text (lower case, Polish letters folded to ASCII),
matched on word stems so inflected forms count too (awaria / awarii / awarię -> "awari").
"""

from __future__ import annotations

from communications.classifier.rules import Classification, classify

__all__ = ["Classification", "classify"]
