"""A small keyword check of a booking description: gas smell, emergency. Plain Python, no Django.

Communications' classifier takes precedence when it is installed (integration.portal.classify);
this check always runs too, because a missed gas smell costs far more than a false alarm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hvaccrm.text import text_fold

# Stems, matched at word starts on accent-free lower-case text (Polish inflects heavily).
GAS_PATTERNS = (
    r"\bgaz\w*\b.{0,30}\b(czu\w*|zapach\w*|smrod\w*|wyciek\w*|ulatni\w*|ulatni\w*|syczy\w*)",
    r"\b(czu\w*|zapach\w*|smrod\w*|wyciek\w*|ulatni\w*)\b.{0,30}\bgaz\w*",
    r"\bsmell\w*\b.{0,20}\bgas\b", r"\bgas\b.{0,20}\b(smell\w*|leak\w*)", r"\bgas leak\w*",
    r"\bczad\w*", r"\btlenek wegla\b", r"\bcarbon monoxide\b",
)
EMERGENCY_PATTERNS = (
    r"\bawari\w*", r"\bpilne\b", r"\bpilnie\b", r"\bnatychmiast\w*", r"\bles?je si\w*", r"\bcieknie\b", r"\bzalan\w*",
    r"\bzalewa\w*", r"\bpozar\w*", r"\bdym\w*", r"\biskrz\w*", r"\bpali si\w*", r"\bwybuch\w*", r"\bzwarci\w*",
    r"\bbrak ogrzewania\b", r"\bnie grzeje\b.{0,40}\b(dzieck\w*|mroz\w*|zimno)", r"\bemergency\b", r"\burgent\w*",
    r"\bflood\w*", r"\bsmoke\w*", r"\bfire\b", r"\bsparks?\b", r"\bno heating\b", r"\bleaking water\b",
    r"\bwater (is )?(pouring|leaking)\b",
)

_gas = [re.compile(p) for p in GAS_PATTERNS]
_emergency = [re.compile(p) for p in EMERGENCY_PATTERNS]


@dataclass(frozen=True)
class Triage:
    gas: bool
    emergency: bool


def triage(text: str) -> Triage:
    """A gas smell is always an emergency; other keywords make an emergency on their own."""
    plain = text_fold(text or "")
    gas = any(p.search(plain) for p in _gas)
    emergency = gas or any(p.search(plain) for p in _emergency)
    return Triage(gas=gas, emergency=emergency)


def keywords_for_browser() -> dict[str, list[str]]:
    """The same patterns for the booking page's script, so the warning shows while typing."""
    return {"gas": list(GAS_PATTERNS), "emergency": list(EMERGENCY_PATTERNS)}
