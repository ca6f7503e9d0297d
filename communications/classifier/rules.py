"""The rules of the classifier. Patterns are regular expressions over the folded text.

Why stems and not a dictionary of forms: Polish inflects nouns in seven cases and verbs by person;
a stem with a short tail (`awari\\w*`) covers awaria/awarii/awarię/awarią without listing them.
Negations that turn an alarm off ("nie czuć gazu", "no gas smell") are removed before matching.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from hvaccrm.safety import gas_safety_instruction
from hvaccrm.text import text_fold


def normalise(text: str) -> str:
    """The core's folding (lower case, no diacritics), whitespace collapsed."""
    return re.sub(r"\s+", " ", text_fold(text)).strip()


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


W = r"\w*"  # the inflection tail of a stem

# --- emergencies: danger to people or property now --------------------------------------------
GAS = _rx(
    # "czuj" but not "czujnik" (a detector): "montaz czujnika gazu" is a quote, not a smell.
    rf"\b(czu[cj](?!ni){W}|smrod{W}|zapach{W}|wyczuwa{W}|pachnie|smierdzi)\b[^.!?]{{0,25}}\bgaz{W}",
    rf"\bgaz{W}\b[^.!?]{{0,20}}\b(czu[cj](?!ni){W}|smierdzi|wyczuwa{W}|ulatnia{W}|ucieka|wycie{W}|zapach{W})",
    rf"\bulatnia{W} (sie )?gaz", r"\bwyciek\w* gazu",
    r"\b(smell|smells|smelling|reek\w*|odou?r) (of )?gas\b", r"(?<!f-)(?<!f )\bgas (smell|leak(?! (check|test))\w*|odou?r)",
    r"\bsmells? like gas\b", r"\bleaking gas\b",
)
# A gas detector going off counts as the CO alarm does (the same instruction: get out, call).
CO_DEVICE = (r"((czujni|czujk|detektor)\w* (czadu|co|tlenku wegla|gazu)|gas (alarm|detector|sensor)s?|(czujni|alarm)\w* czadow\w*|(co|carbon monoxide) (alarm|detector|sensor)s?|"
             r"alarm\w* (czadu|co))")
CO_TRIGGER = (r"(piszcz\w*|wyje|pika|wlaczyl\w*|zadzialal\w*|uruchomil\w*|dzwoni|wykryl\w*|alarmuje|going off|went off|"
              r"goes off|beep\w*|sounding|sounded|triggered|keeps)")
CO = _rx(
    rf"\b{CO_DEVICE}\b[^.!?]{{0,30}}\b{CO_TRIGGER}", rf"\b{CO_TRIGGER}\b[^.!?]{{0,30}}\b{CO_DEVICE}",
    r"\b(podejrzew\w*|zatru\w*|zatrucie) (sie )?czad\w*", r"\bczad\w*\b[^.!?]{0,20}\b(zatru\w*|bol\w* glow\w*)",
    r"\bsuspect\w* (a )?(co|carbon monoxide)\b", r"\bcarbon monoxide (poisoning|leak)\b",
)
FIRE = _rx(
    rf"\b(dym{W}|pozar(u|em|ze)?|pali sie|sie pali|ogie[nm]{W}|iskr{W}|plomie{W}|zapach spalenizny|spalenizn{W}|swad{W})\b",
    # "fire" the verb is not a fire: "the boiler won't fire", "fails to fire", "fire up the heat pump".
    r"\b(smoke|smoking|(?<!n't )(?<!wont )(?<!not )(?<!to )fire(?! up\b)|flames?|sparks?|sparking|burning smell|smell of burning|smells? burnt?)\b",
)
WATER = _rx(
    # Water onto a sill, a carpet or a wall (condensate) is a failure, not a flood: the lookaheads.
    rf"\b(leje|lal{W}|tryska|zalewa|zalal{W}|zalani{W}|zalew{W}|plynie|splywa)\b[^.!?]{{0,25}}\bwod\w*+(?!( sie)? na (parapet|dywan|balkon|scian)\w*)",
    rf"\bwod{W}\b[^.!?]{{0,25}}\b(leje|lal\w*+|tryska|zalewa|zalal\w*+|plynie|splywa|wszedzie)(?!( sie)? na (parapet|dywan|balkon|scian)\w*)",
    rf"\b(powodz{W}|zalany|zalana|zalane|zalewa nas|pekl{W} rur{W}|pekniet{W} rur{W}|rur{W} pekl{W})\b",
    rf"\b(mnostwo|pelno|duzo|kaluz{W}|jezioro) wody\b",
    r"\b(it'?s|it is|water is|water's) (pouring|gushing|flooding)\b",
    r"\b(water|it) (is )?(pouring|gushing|flooding|spraying)\b(?! (onto|on) (the |our |my )?(windowsill|sill|carpet|balcony|wall)\b)", r"\bflood(ed|ing)?\b",
    r"\bburst (pipe|hose)\b", r"\bwater (everywhere|all over)\b", r"\bwater (is )?(leaking|dripping) (onto|on|into|through)\b",
    # Condensate leaking onto a floor or a sill is a failure (high); onto electrics, safety.py decides.
    r"\bleaking (water )?(onto|on|into|through)\b(?! (the |our |my |a )?(floor|windowsill|sill|carpet|sofa|wall|bucket|tray)\b)",
)
VULNERABLE = _rx(
    r"\b[7-9]\d (lat|years)", rf"\b(niemowl{W}|noworod{W}|dziec{W}|dzieci{W}|senior{W}|starsz{W}|chor{W}|szpital{W}|serwerown{W}|leki|lekow)\b",
    r"\b(baby|babies|newborn|infant|elderly|grandm\w*|grandf\w*|sick|hospital|server room|medication|vaccines?)\b",
)
FREEZING = _rx(
    r"\bmroz\w*", r"\bminus\b", r"-\s?\d+ ?(stopni|st|°|c)\b", r"\b(zamarz\w*|zamarza\w*|lodowat\w*)",
    r"\bfreez\w*", r"\bbelow zero\b", r"\bsub-?zero\b",
)
# A heating appliance that failed: with a baby, an old person or frost, it is an emergency.
HEATING = _rx(rf"\b(kociol{W}|kotl{W}|piec{W}|pieca|pomp{W} ciepla|ogrzewani{W}|co\b)", r"\b(boiler|furnace|heating|heat pump)\b")
HEAT_EXTREME = _rx(r"\b(upal\w*|3[5-9] stopni|4\d stopni)\b", r"\b(heatwave|heat wave|3[5-9] degrees|4\d degrees)\b")

# --- loss of service (high on its own, emergency with a vulnerable person or frost) -----------
NO_HEAT = _rx(
    rf"\bnie (grzej{W}|grzeje|dziala ogrzewanie|ma ogrzewania|ma ciepl{W}|ma cieplej wody)",
    rf"\bbrak{W} (ogrzewani{W}|ciepl{W}|c\.?o\.?\b|cieplej wody)", r"\bzimn\w* kaloryfer\w*",
    r"\bkaloryfery? (sa )?zimn\w*", r"\bbez (ogrzewania|ciepla|cieplej wody)",
    r"\bno (heat|heating|hot water)\b", r"\b(heating|boiler|furnace|heat pump|radiators?)\b[^.!?]{0,30}\b(not working|stopped|doesn'?t work|won'?t (start|turn on|fire)|is dead|broke)",
    r"\bnot heating\b", r"\b(isn'?t|is not|doesn'?t|does not|won'?t) heat", r"\bradiators? (are |is )?cold\b",
)
NO_COOL = _rx(
    rf"\bnie (chlodz{W}|chlodzi|dziala klimatyzacja|dziala klima)", rf"\bbrak{W} chlodzeni{W}", rf"\bprzesta{W} chlodzi{W}",
    r"\b(ac|a/c|air con\w*|air conditioning)\b[^.!?]{0,30}\b(not working|stopped|doesn'?t work|is dead|broke|won'?t)",
    r"\bnot cooling\b", r"\b(isn'?t|is not|doesn'?t|does not|won'?t) cool", r"\bno cooling\b",
)
FAILURE = _rx(
    rf"\bawari{W}", rf"\bzepsu{W}", rf"\bpopsu{W}", r"\bnie dziala\b", rf"\bnie wlacza{W}", rf"\bnie odpal{W}", rf"\bnie uruchamia{W}",
    rf"\bprzesta{W} dziala{W}", rf"\buszkodz{W}", rf"\busterk{W}", rf"\bdefekt{W}", r"\bfault\w*", r"\bwylacza sie\b", r"\bsie wylacza\b", r"\bgasnie\b",
    r"\bnie chce sie (odpalic|wlaczyc|uruchomic)", r"\bblad\b", r"\bbled(u|em|y|ow)\b", r"\berror\b",
    r"\bbreak ?down\b", r"\bbroken\b", r"\bbroke\b", r"\bfail(ed|ure|ing|s)?\b", r"\bnot working\b",
    r"\bstopped working\b", r"\bwon'?t (start|turn on)\b", r"\bout of order\b", r"\bmalfunction\w*",
    r"\bshuts? (itself )?(off|down)\b", r"\bkeeps? (shutting|turning) off\b",
)
LEAK = _rx(
    rf"\bwyciek{W}", rf"\bciekn{W}", r"\bcieknie\b", r"\bkapie\b", rf"\bskrapla{W}", rf"\bmokr{W} plam{W}",
    r"\bleak\w*\b(?! (check|test|detect))", r"\bdrip\w*",
)
ERROR_CODE = re.compile(r"\b(?:kod|code|blad|bledu|error|err)\b[ :#-]*([a-z]{0,2}\s?-?\d{1,3}[a-z]?)\b|\b([efhlpu]\d{1,2}|[efhlpu]-\d{1,2})\b")
NOISE = _rx(rf"\bhalas{W}", rf"\bstuk{W}", rf"\bbucz{W}", rf"\bpiszcz{W}", r"\b(noise|noisy|rattl\w*|bang\w*|squeal\w*|grinding)\b")
ASAP = _rx(
    r"\bpilne\b", r"\bpilnie\b", r"\bpilny\b", r"\bjak najszybciej\b", r"\bnatychmiast\w*", r"\bna cito\b",
    r"\burgent\w*", r"\basap\b", r"\bimmediately\b", r"\bas soon as possible\b", r"\bright away\b",
)

NEGATIONS = _rx(
    r"\bnie (czuc|czuje|czujemy|ma|bylo) (juz )?(zapachu )?gazu\b", r"\bbez zapachu gazu\b", r"\bno (smell of )?gas( smell)?\b",
    r"\bgaz\w* (juz |wcale )?(nie|nic nie) (czuc|czuje\w*|smierdzi)\b", r"\bno (more|longer( any)?) (gas smell|smell of gas)\b",
    r"\b(not|never) (smell|smelled) (any )?gas\b", r"\bgas smell (is )?gone\b", r"\bczujnik\w* czadu\b[^.!?]{0,40}\b(montaz\w*|wymian\w*|instal\w*|kupi\w*|sprawdz\w*|przeglad\w*|test\w*)",
    r"\b(install\w*|replace\w*|test\w*|check\w*|buy\w*|fit\w*) (a |an |the |our )?(new )?(co|carbon monoxide) (alarm|detector|sensor)s?\b",
    r"\b(co|carbon monoxide) (alarm|detector|sensor)s? (install\w*|replacement|test\w*|check\w*)",
    r"\b(montaz\w*|wymian\w*|instalacj\w*|sprawdzeni\w*|przeglad\w*|kupi\w*) (nowego )?czujnik\w* (czadu|co\b)",
    r"\bnie (ma|bylo) (zadnego )?(wycieku|dymu)\b", r"\bno (leak|smoke|leaks)\b",
    r"\bnie cieknie\b", r"\bisn'?t leaking\b", r"\bnot leaking\b",
    # Fire-safety equipment named in an inspection or a quote is not a fire (cross-validation showed
    # "fire damper inspection" and "do you install smoke detectors" raised to emergencies); a smoke
    # alarm that is going off is not matched here and still counts.
    r"\bfire (da\w{0,2}pers?|safety|protection|extinguishers?|doors?)\b", r"\bsmoke (extraction|ventilation|exhaust|control|vent)s?\b",
    r"\b(install\w*|fit\w*|buy\w*|quote\w*|price\w*|test\w*|inspect\w*|sell) (a |an |the |our |new )?smoke (a|d|s)\w*",
    # Fire or smoke alarms named in a quote or a service.
    r"\b(fire|smoke|co|carbon monoxide) (alarm|detection|detector|sensor)s? (systems? )?(test\w*|servic\w*|inspect\w*|check\w*|maintenance|quote|install\w*|replacement)\b",
    r"\b(quote\w*|price\w*|install\w*|fit\w*|servic\w*|inspect\w*|test\w*) (for |of )?(a |an |the |our |new )?fire (alarm|detection)\w*( system)?",
    # A smoke or flood detector named without going off (a quote, a second one, a battery) is not a
    # fire or a flood; "the smoke alarm is going off" keeps its alarm.
    rf"\b(smoke (alarm|detector|sensor)s?|czujni\w* (dymu|zalania)|czujk\w* dymu|(flood|leak|water) (sensor|detector|alarm)s?)\b(?![^.!?]{{0,30}}\b{CO_TRIGGER})",
    # A danger asked about for some day ("what should I do if I ever smell gas?").
    r"\b(if|in case) (i |we |you )?(ever|one day|some day)\b[^.!?]{0,30}", r"\b(jesli|jezeli|gdyby|gdy|w razie gdyby) (kiedys|kiedykolwiek)\b[^.!?]{0,30}",
    # The neighbour's chimney is not our fire.
    r"\b(dym\w*|smoke) z komina sasiad\w*", r"\bneighbou?r'?s? chimney smoke\b", r"\bsmoke from (the |a )?neighbou?r'?s? chimney\b",
    # A detector chirping for its battery ("pika raz na minutę", "chirps, low battery") is not an alarm.
    r"\b(smoke|co|carbon monoxide|fire) (alarm|detector|sensor)s? (is |keeps )?chirp\w*", r"\bczujni\w* (dymu|czadu|co) (popiskuj\w*|pika raz\w*)",
    # A lit indicator lamp ("pali się czerwona dioda") is not a fire.
    r"\bpali sie (czerwon\w* |zielon\w* |pomaranczow\w* )?(diod\w*|lampk\w*|kontrolk\w*|swiatelk\w*)",
    r"\b(diod\w*|lampk\w*|kontrolk\w*|swiatelk\w*)\b[^.!?]{0,15}\b(sie )?pali( sie)?\b", r"\bpali sie na (czerwono|zielono|pomaranczowo)\b",
    r"\bklap\w* (przeciw|p\.?)pozarow\w*\b", r"\boddymiani\w*\b", r"\bgasnic\w*\b", r"\bprzeciwpozarow\w*\b",
    r"\b(montaz\w*|wycen\w*|(do)?kupi\w*|sprzeda\w*|instal\w*|zamontowa\w*|montuje\w*) [^.!?]{0,30}\bczujnik\w* dymu\b",
    # A gas leak or smell in the past ("last year we had a gas leak, now a service"): only that span
    # goes, so a gas smell now in the same text still fires.
    r"\b(last (year|winter|month)|(a |two |few )?(years?|winters?) ago|in the past|w (zeszlym|ubieglym) roku|rok temu|(dwa |kilka )?lata temu|kiedys|dawniej)\b[^.!?]{0,30}\b(gas (leak|smell)|wyciek\w* gazu|zapach\w* gazu|ulatniani\w* gazu)\w*",
    r"\b(gas (leak|smell)|wyciek\w* gazu|zapach\w* gazu)\w* (last (year|winter|month)|(a |two |few )?(years?|winters?) ago|in the past|w (zeszlym|ubieglym) roku|rok temu)\b",
    # A fire or carbon monoxide in the past, and a gas smell that is gone since a repair.
    r"\b(there was|we had|mielismy|byl\w*) (a |an )?(small |minor |maly )?(fire|pozar\w*|carbon monoxide \w+|co (leak|scare))\b[^.!?]{0,40}\b(years? ago|last (year|winter)|lata temu|rok temu|w (zeszlym|ubieglym) roku)\b",
    r"\b(kiedys|dawniej|years ago|rok temu|lata temu|w (zeszlym|ubieglym) roku)\b(?:(?!teraz|now|dzis|today|znow|again)[^.!?]){0,30}\b(pozar\w*|fire)\b",
    r"\b(fire|pozar\w*)\b(?:(?!teraz|now|dzis|today|znow|again)[^.!?]){0,40}\b(ye\w*s ago|last (year|winter)|lata temu|rok temu|sprzed (roku|lat)|w (zeszlym|ubieglym) roku)\b",
    r"\b(last (year|winter|month)'?s?|previous|earlier) fire\b",
    r"\b(smell of (gas|burning)|(gas|burning) (smell|odou?r)|zapach\w* (gazu|spalenizny))\b[^.!?]{0,40}\b(is |has )?(gone|went away|disappeared|zniknal\w*|ustal\w*|minal)\b(?! (off|dead|out))",
    r"\b(dawny|stary|poprzedni) problem z zapachem gazu\b",
)

# --- service types and equipment ---------------------------------------------------------------
SERVICES: dict[str, re.Pattern[str]] = {
    "installation": _rx(
        rf"\bmontaz{W}", rf"\bzamontowa{W}", rf"\binstalacj{W}", rf"\bzainstalowa{W}", rf"\bnow{W} (klimatyzator|pomp|kociol|piec|jednost)",
        rf"\bwymian{W} (kotla|pieca|klimatyzatora|pompy|urzadzenia|jednostki)", rf"\bwycen{W}", r"\boferta\b",
        r"\binstall\w*", r"\bfit(ting)? (a |an )?new\b", r"\bnew (unit|ac|boiler|heat pump)\b", r"\breplace (the |our |my )?(boiler|unit|ac)\b",
        r"\bquote\b", r"\bquotation\b",
    ),
    "maintenance": _rx(
        rf"\bprzeglad{W}", rf"\bserwis{W} (okresow|roczn|coroczn)", rf"\bkonserwacj{W}", rf"\bczyszczeni{W}", rf"\bwyczysci{W}",
        rf"\bodgrzybia{W}", rf"\bodgrzybi{W}", rf"\bwymian{W} filtr{W}", rf"\bfiltr{W}", rf"\bdezynfekcj{W}",
        r"\bmaintenance\b", r"\bservic(e|ing)\b", r"\bclean\w*", r"\bfilters?\b", r"\btune-?up\b", r"\bannual\b", r"\bcheck-?up\b",
    ),
    "inspection": _rx(
        rf"\bkontrol{W} szczelnosci\b", rf"\bszczelnosc{W}", rf"\binspekcj{W}", rf"\bodbior{W}", rf"\bprotokol{W}",
        rf"\bkontrol{W}", rf"\bsprawdzeni{W} instalacji", r"\bcro\b", rf"\bf-?gaz{W}",
        r"\binspect\w*", r"\bleak (check|test)\w*", r"\bf-?gas\b", r"\baudit\b", r"\bcertificat\w*", r"\bsafety check\b",
    ),
}
EQUIPMENT: list[tuple[str, re.Pattern[str]]] = [
    ("multi_split", _rx(r"\bmulti-? ?split\w*", r"\bkilka jednostek wewnetrznych\b", r"\bseveral indoor units\b")),
    ("heat_pump", _rx(rf"\bpomp{W} ciepla\b", r"\bheat ?pumps?\b", r"\bpc\b")),
    ("gas_boiler", _rx(rf"\bkociol{W}", rf"\bkotl{W}", rf"\bpiec{W}\b", r"\bpieca\b", rf"\bpiecyk{W}", rf"\bgazow{W}", r"\bboilers?\b",
                       r"\bfurnace\b", r"\bcombi\b", r"\bvaillant\b", r"\bjunkers\b", r"\btermet\b")),
    ("ventilation", _rx(rf"\brekuperac{W}", rf"\brekuperator{W}", rf"\bwentylac{W}", rf"\bwentylator{W}", r"\bventilation\b",
                        r"\bmvhr\b", r"\bhrv\b", r"\brecuperator\b", r"\bextractor\b")),
    ("chiller", _rx(r"\bchiller\w*", rf"\bagregat{W} wody lodowej")),
    ("split_ac", _rx(rf"\bklimatyzac{W}", rf"\bklimatyzator{W}", r"\bklim(a|y|ie|e|ka|ke)\b", r"\bsplit\b", r"\bair ?con\w*",
                     r"\bac\b", r"\ba/c\b", r"\bair conditioning\b", rf"\bjednostk{W} (wewnetrzn|zewnetrzn)", r"\bindoor unit\b",
                     r"\boutdoor unit\b")),
]

PL_HINT = re.compile(r"[ąćęłńóśźż]")
PL_WORDS = frozenset(
    "i w na nie sie jest z do ze to jak ale czy mam mamy od po juz prosze bardzo dzien dobry witam dziekuje "
    "pilne awaria klimatyzacja kociol piec nam mnie mi jutro dzisiaj rano wieczorem przeglad czuc woda".split()
)
EN_WORDS = frozenset(
    "the is are and in on of to it not no my our we i please hello hi thanks thank you with from there this "
    "that have has can could would urgent failure leaking heating water smell boiler unit do you your what which "
    "for us need like after before help went off when how is it's its at be been there here code error heat pump "
    "displays shows working broken office flat house home please".split()
)

@dataclass
class Classification:
    urgency: str = "normal"
    service_types: list[str] = field(default_factory=list)
    equipment: str | None = None
    language: str = "pl"
    reasons: list[str] = field(default_factory=list)
    confidence: float = 0.5
    safety_instruction: str | None = None

    def as_dict(self, *, with_safety: bool = True) -> dict:
        """As JSON; without the safety text it is exactly the object `manage.py classify` prints."""
        data = asdict(self)
        if data["safety_instruction"] is None or not with_safety:
            del data["safety_instruction"]
        return data


def detect_language(text: str, folded: str) -> str:
    words = re.findall(r"[a-z']+", folded)
    # Polish letters weigh 1.5 words each: a place name like "Mokotów" in English text weighs less
    # than the English function words around it.
    pl = sum(w in PL_WORDS for w in words) + 1.5 * len(PL_HINT.findall(text.lower()))
    en = sum(w in EN_WORDS for w in words)
    return "en" if en > pl else "pl"


def _hit(pattern: re.Pattern[str], text: str) -> str | None:
    m = pattern.search(text)
    return m.group(0) if m else None


def _emergencies(scan: str, result: Classification) -> bool:
    """Danger now: gas or carbon monoxide (with the safety instruction), smoke or fire, water leaking."""
    emergency = False
    for label, pattern in (("gas smell", GAS), ("carbon monoxide", CO)):
        hit = _hit(pattern, scan)
        if hit:
            result.reasons.append(f"{label}: '{hit}'")
            emergency = True
            result.safety_instruction = gas_safety_instruction(language=result.language)
    for label, pattern in (("smoke or fire", FIRE), ("water leaking", WATER)):
        hit = _hit(pattern, scan)
        if hit:
            result.reasons.append(f"{label}: '{hit}'")
            emergency = True
    return emergency


def _breakdowns(scan: str, result: Classification, *, emergency: bool) -> tuple[bool, bool, bool]:
    """Something broken or asked for urgently: (emergency, high, needs a repair). No heating or
    cooling becomes an emergency for people at risk (or a server room)."""
    reasons = result.reasons
    no_heat, no_cool = _hit(NO_HEAT, scan), _hit(NO_COOL, scan)
    failure, leak = _hit(FAILURE, scan), _hit(LEAK, scan)
    code = ERROR_CODE.search(scan)
    vulnerable, freezing, heat = _hit(VULNERABLE, scan), _hit(FREEZING, scan), _hit(HEAT_EXTREME, scan)
    asap = _hit(ASAP, scan)
    high = False
    if no_heat:
        reasons.append(f"no heating: '{no_heat}'")
        high = True
        if vulnerable or freezing:
            reasons.append(f"at risk: '{vulnerable or freezing}'")
            emergency = True
    if no_cool:
        reasons.append(f"no cooling: '{no_cool}'")
        high = True
        if (vulnerable and heat) or _hit(_rx(r"\bserwerown\w*", r"\bserver room\b"), scan):
            reasons.append(f"at risk: '{vulnerable or 'server room'}'")
            emergency = True
    if failure:
        reasons.append(f"failure: '{failure}'")
        high = True
        if not emergency and not no_heat and (vulnerable or freezing) and _hit(HEATING, scan):
            reasons.append(f"heating failed, at risk: '{vulnerable or freezing}'")
            emergency = True
    if leak and not emergency:
        reasons.append(f"leak: '{leak}'")
        high = True
    if code:
        reasons.append(f"error code: '{code.group(0).strip()}'")
        high = True
    if asap:
        reasons.append(f"asked for urgently: '{asap}'")
        high = True
    noise = _hit(NOISE, scan)
    if noise and not high:
        reasons.append("unusual noise")
    repair = bool(emergency or no_heat or no_cool or failure or leak or code or noise)
    return emergency, high, repair


def _service_types(scan: str, *, repair: bool) -> list[str]:
    services = [name for name, pattern in SERVICES.items() if pattern.search(scan)]
    if repair:
        services.insert(0, "repair")
    # "serwis" alone means a repair visit when something is broken, maintenance otherwise.
    if "maintenance" in services and "repair" in services and not re.search(r"przeglad|konserwac|czyszcz|clean|annual|filtr|filter", scan):
        services.remove("maintenance")
    return list(dict.fromkeys(services))


def _equipment(scan: str, result: Classification) -> str | None:
    for kind, pattern in EQUIPMENT:
        if pattern.search(scan):
            return kind
    if result.safety_instruction and GAS.search(scan):
        return "gas_boiler"
    return None


def scan_of(folded: str) -> str:
    """What the patterns read: the folded text with negated alarms removed."""
    return NEGATIONS.sub(" ", folded)


def classify(text: str, *, folded: str | None = None, scan: str | None = None) -> Classification:
    """Classify one text; never raises (an empty text is a normal, low-confidence message).

    `folded` (normalise(text)) and `scan` (scan_of(folded)) may be passed by a caller that has them."""
    folded = normalise(text or "") if folded is None else folded
    language = detect_language(text or "", folded)
    result = Classification(language=language)
    if not folded:
        result.confidence = 0.1
        return result
    scan = scan_of(folded) if scan is None else scan
    emergency = _emergencies(scan, result)
    emergency, high, repair = _breakdowns(scan, result, emergency=emergency)
    result.urgency = "emergency" if emergency else "high" if high else "normal"
    result.service_types = _service_types(scan, repair=repair)
    result.equipment = _equipment(scan, result)
    signals = len(result.reasons) + (1 if result.service_types else 0) + (1 if result.equipment else 0)
    base = 0.9 if emergency else 0.75 if high else 0.6
    result.confidence = round(min(0.99, base + 0.03 * signals), 2) if signals else 0.4
    return result
