"""The one classifier: the learned model decides the urgency, the safety rules can only raise it.

Why both: the model generalises to phrasings no rule foresaw (a CO alarm with dizzy children, a
server room at 40 degrees), the rules are a floor that no retraining can remove (a gas smell is an
emergency whatever the model learnt from the office's corrections). Service types, equipment,
language and the safety instruction come from the rules (rules.py).
"""

from __future__ import annotations

import re

from communications.classifier import model as learned
from communications.classifier.counting import decision_counted
from communications.classifier.rules import Classification, normalise, scan_of
from communications.classifier.rules import classify as rules_classify
from communications.classifier.safety import safety_hits
from hvaccrm.safety import gas_safety_instruction

ORDER = {"normal": 0, "high": 1, "emergency": 2}
MAX_INPUT = 10_000  # longer texts are cut: the classifier answers, it does not refuse
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]+")
LETTERS = re.compile(r"[^\W\d_]{2,}")
GAS_OR_CO = re.compile(r"\b(gaz\w*|gas|czad\w*|tlen\w* wegla|carbon monoxide|co (alarm|detector|sensor)|czujni\w* co)\b")


def clean(text: object) -> str:
    """Any input to a bounded text: bytes decoded leniently, control characters and junk dropped."""
    if text is None:
        return ""
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise TypeError(f"classify() takes a text, not {type(text).__name__}")
    return CONTROL.sub(" ", text[:MAX_INPUT]).strip()


def rule_floor(text: str, folded: str | None = None, scan: str | None = None) -> tuple[Classification, str]:
    """rules.py's classification (its reasons marked as rules) and the urgency the rules demand."""
    folded = normalise(text) if folded is None else folded
    scan = scan_of(folded) if scan is None else scan
    result = rules_classify(text, folded=folded, scan=scan)
    hits = safety_hits(text, scan=scan)
    result.reasons = [f"rule: {r}" for r in result.reasons + hits]
    return result, "emergency" if hits else result.urgency


def classify_by_rules(text: object) -> Classification:
    """The rules' answer alone, for a caller that must answer when the model failed (a booking).

    Only a fallback: the rules miss what is phrased unlike their stems, so the reasons say so.
    """
    text = clean(text)
    result, rule_urgency = rule_floor(text)
    result.urgency = rule_urgency
    result.reasons.append("model unavailable: the safety rules alone decided")
    _instruct(result, text)
    return result


def _instruct(result: Classification, text: str, prepared: str | None = None) -> None:
    """An emergency about gas or carbon monoxide carries the one safety instruction."""
    if result.urgency != "emergency" or result.safety_instruction is not None:
        return
    if GAS_OR_CO.search(learned.prepare(text) if prepared is None else prepared):
        result.safety_instruction = gas_safety_instruction(language=result.language)


def classify(text: object, *, neighbours: bool = True) -> Classification:
    """Urgency, service types, equipment, language and reasons of one text; never raises on text.

    An empty text, emoji only or junk without words is `normal` with a low confidence and a reason
    saying so; a text that is not a string or bytes is a TypeError (a programming error).
    `neighbours=False` leaves the nearest labelled examples out of the reasons (a caller that shows
    no reasons, like the booking page's live check, need not search for them). Each answer is
    counted in the metrics by its urgency (counting.py: batched per process).
    """
    result = _classify(clean(text), neighbours)
    decision_counted(result.urgency)
    return result


def _classify(text: str, neighbours: bool) -> Classification:
    # Folded and stripped of negations once, for the rules, the safety rules and the n-grams.
    folded = normalise(text)
    scan = scan_of(folded)
    result, rule_urgency = rule_floor(text, folded, scan)
    if not LETTERS.search(text):
        result.reasons.append("no words to classify")
        result.confidence = 0.1
        return result
    prepared = scan if len(folded) <= learned.MAX_CHARS else learned.prepare(text)
    triage_model = learned.load()
    proba, vectors = triage_model.probabilities([text], prepared=[prepared])
    model_urgency = triage_model.decide(proba)[0]
    p = dict(zip(learned.LABELS, (float(v) for v in proba[0]), strict=True))
    urgency = max(rule_urgency, model_urgency, key=ORDER.__getitem__)
    result.urgency = urgency
    result.reasons.append(f"model: {model_urgency} (p={p[model_urgency]:.2f})")
    if ORDER[rule_urgency] > ORDER[model_urgency]:
        result.reasons.append(f"a safety rule raised {model_urgency} to {rule_urgency}")
    if neighbours:
        for label, example, similarity in triage_model.nearest(vectors[0], k=2):
            result.reasons.append(f"nearest labelled: {label} '{example[:80]}' ({similarity:.2f})")
    _instruct(result, text, prepared)
    result.confidence = round(max(p[urgency], 0.9 if urgency == rule_urgency != "normal" else 0.0), 2)
    return result
