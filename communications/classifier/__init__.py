"""Urgency, service and equipment classification of a message or booking text (Polish and English).

`classify` is the one entry point: a learned model (model.py, trained by train.py on the corpus of
corpus.py) decides the urgency, the safety rules (rules.py, safety.py) can only raise it; service
types, equipment and language come from the rules. See docs/triage.md.
"""

from __future__ import annotations

from communications.classifier.rules import Classification
from communications.classifier.triage import classify, classify_by_rules

__all__ = ["Classification", "classify", "classify_by_rules"]
