"""Safety rules on top of rules.py's: situations that are emergencies by definition. They only raise.

rules.py catches gas, carbon monoxide alarms, smoke/fire and flowing water by stems. These add the
combinations the issue names: a critical site (server room, cold store, pharmacy, clinic) that lost
its cooling, refrigerant escaping into an occupied room, poisoning symptoms next to a burner, water
reaching electrics, and a vulnerable person without heating in frost. Each rule is a pair of
patterns that must both match the folded, negation-free text (same sentence or not).
"""

from __future__ import annotations

import re

from communications.classifier.rules import FREEZING, NEGATIONS, VULNERABLE, normalise

W = r"\w*"


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


CRITICAL_SITE = _rx(rf"\bserwerown{W}", r"\bserver ?rooms?\b", r"\bdata ?(centre|center|room|hall)\b", r"\bcomms room\b",
                    rf"\bchlodni{W}", rf"\bmrozni{W}", rf"\bkomor{W} chlodnicz{W}", r"\bcold ?(store|room)s?\b",
                    r"\b(walk-in )?freezer( room)?\b", rf"\baptek{W}", r"\bpharmac\w*", rf"\bprzychodni{W}", r"\bclinic\w*",
                    rf"\bszczepion{W}", r"\bvaccin\w*", r"\binsulin\w*", rf"\bblok{W} operacyjn{W}", r"\btheatre\b",
                    rf"\blodowk{W} (na leki|farmaceutyczn{W}|na szczepionki)", r"\bdc\b")
COOLING_LOST = _rx(rf"\bnie (chlodz{W}|dziala|chodzi|dzialaja)", rf"\bpadl{W}", r"\bstan(al|ela|ely|ela)\b", rf"\bawari{W}",
                   rf"\bprzegrzew{W}", rf"\bprzesta{W}", r"\bstoja\b", rf"\bwzrosl{W}", r"\brosnie\b", r"\bcieplo\b",
                   r"\b(stopped|not|isn'?t|won'?t) (cool\w*|work\w*|running)", r"\b(failed|down|dead|died|tripped|broke\w*)\b",
                   r"\boverheat\w*", r"\b(climbing|rising|thawing)\b", r"\b(3\d|4\d) ?(stopni|degrees|c)\b", r"\bfailure\b")
REFRIGERANT = _rx(rf"\bsycz{W}", r"\bsyk\b", rf"\bczynnik{W}", r"\bfreon\w*", r"\bhiss\w*", r"\brefrigerant\b")
OCCUPIED_HARM = _rx(rf"\bchemi{W}", rf"\bslodkaw{W}", rf"\bduszn{W}", rf"\bkaszl{W}", rf"\bbol{W} glow{W}", r"\bwyszli\b",
                    rf"\bdziec{W}|\bdzieci{W}", r"\bchemical\b", r"\bsweet\b", r"\bcough\w*", r"\bcan'?t breathe\b",
                    r"\bfeel (sick|ill)\b", r"\bheadache\w*", r"\bkids?\b|\bchildren\b|\bbaby\b")
SYMPTOMS = _rx(rf"\bzawrot{W}", rf"\bkrec{W} sie w glowie", rf"\bmdlosc{W}", rf"\bnudnosc{W}", rf"\bwymiot{W}", rf"\bzemdla{W}",
               rf"\bzaslab{W}", rf"\bstraci{W} przytomnosc", rf"\bsenn{W}", r"\bdizz\w*", r"\bnause\w*", r"\bvomit\w*",
               r"\bfaint\w*", r"\bcollaps\w*", r"\bdrowsy\b", r"\bunconscious\b", r"\bconfused\b")
BURNER = _rx(rf"\bpiec{W}", rf"\bkoci?o?l{W}|\bkotl{W}", r"\bjunkers\w*", rf"\bpiecyk{W}", rf"\bgaz{W}", rf"\bczad{W}", r"\bco\b",
             r"\bboiler\b", r"\bfurnace\b", r"\bheater\b", r"\bgas\b", r"\bcarbon monoxide\b", r"\bheating\b")
WATER = _rx(rf"\bwod{W}", rf"\bskroplin{W}", r"\bleje\b|\bleci\b|\bcieknie\b|\bkapie\b|\bspływa\b|\bsplywa\b", rf"\bzala{W}",
            r"\bwater\b", r"\bcondensate\b", r"\bleak\w*", r"\bdrip\w*", r"\bpour\w*", r"\bstream\w*", r"\bpissing\b")
ELECTRICS = _rx(rf"\bgniazd{W}", rf"\bkontakt{W}", rf"\brozdzielni{W}", rf"\bbezpiecznik{W}", rf"\bpuszk{W} elektryczn{W}",
                rf"\blistw{W} zasilajac{W}", rf"\bsterownik{W}", rf"\bszaf{W} sterownicz{W}", rf"\blamp{W}", rf"\bprzedluzacz{W}",
                r"\bsockets?\b", r"\b(electrical|distribution|fuse) (panel|board|box)\b", r"\bfuse ?box\b", r"\bswitchgear\b",
                r"\bups\b", r"\bpower strip\b", r"\blight fittings?\b", r"\bcontrols\b", r"\bwiring\b")
NO_HEAT = _rx(rf"\bnie (grzej{W}|dziala|odpala)", rf"\bbrak{W} (ogrzewani{W}|ciepl{W}|co\b)", rf"\bzimn{W} kaloryfer{W}",
              rf"\bkaloryfer{W} (sa )?(zimn|lodowat){W}", rf"\bpadl{W}", r"\bstan(al|ela)\b", rf"\bmarzn{W}",
              r"\bno (heat|heating)\b", r"\bwithout heat\w*", r"\b(died|dead|failed|down|tripped)\b", r"\bfreezing\b")
RULES: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = (
    ("critical site without cooling", (CRITICAL_SITE, COOLING_LOST)),
    ("refrigerant escaping where people are", (REFRIGERANT, OCCUPIED_HARM)),
    ("poisoning symptoms near a burner", (SYMPTOMS, BURNER)),
    ("water on electrics", (WATER, ELECTRICS)),
    ("vulnerable person without heating in frost", (VULNERABLE, NO_HEAT, FREEZING)),
)


def safety_hits(text: str, *, scan: str | None = None) -> list[str]:
    """The names of the safety rules the text meets, with the words that met them (`scan`: the
    text already folded and without negations, rules.scan_of, when the caller has it)."""
    scan = NEGATIONS.sub(" ", normalise(text or "")) if scan is None else scan
    out = []
    for name, patterns in RULES:
        found = [p.search(scan) for p in patterns]
        if all(found):
            out.append(f"{name}: " + " + ".join(f"'{m.group(0)}'" for m in found if m))
    return out
