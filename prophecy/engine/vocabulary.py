"""A bilingual HVAC vocabulary: concepts named the same way in Polish and English, for lexical
search across the two languages. Pure Python.

Each concept lists folded stems (lower case, no diacritics): a word matches a stem when it starts
with it, so Polish inflection ("cieknie", "ciekło", "cieknący") needs no list of forms; stems that
must match a whole word only start with "=" ("=ac", "=hot"); phrases of two words are matched on
neighbouring words ("heat pump", "pompa ciepla"). A text's concepts become tokens ("hvleak") that
are indexed beside its lemmas and added to a query, so "klimatyzacja cieknie" and "AC leaking"
share two terms although they share no word.

The tokens are alphanumeric so that every backend's tokenizer (Weaviate's `word`, PostgreSQL's
`simple`) keeps them whole.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hvaccrm.text import text_fold

CONCEPT_PREFIX = "hv"

# concept -> stems (Polish and English). Stems are folded; keep them at least four letters long
# unless marked whole-word, so that they do not swallow unrelated words.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "aircon": ("klimatyz", "=klima", "=klimy", "=klime", "=klimie", "=split", "=splitu", "=splita", "=ac",
               "aircon", "air conditioner", "air conditioning", "=conditioner", "=conditioning", "multisplit",
               "multi split", "=a/c", "louvre", "louver", "zaluzj", "kierownic", "=lamela", "=lamele", "indoor unit",
               "indoor head", "jednostka wewnetrzn", "jednostki wewnetrzn", "jednostce wewnetrzn", "wall unit",
               "wall-mounted"),
    "heatpump": ("heat pump", "pompa ciepl", "pompy ciepl", "pompie ciepl", "pompe ciepl", "pompa powietrz",
                 "=heatpump", "air source", "ground source", "gruntow", "powietrze-woda", "air-to-water"),
    "boiler": ("kocio", "kotl", "=piec", "=pieca", "=piecyk", "=piecem", "=piecu", "boiler", "furnace",
               "kondensac", "condensing", "combi", "dwufunkc", "junkers", "vaillant", "viessmann", "termet"),
    "ventilation": ("wentyl", "rekuper", "recuperat", "=mvhr unit", "=mvhr", "heat recovery", "odzysk", "=hrv", "=erv", "ventilat",
                    "centrala wentyl", "air handling", "=ahu", "=vent", "=vents", "anemostat", "diffuser"),
    "chiller": ("chiller", "agregat wody", "=chillera"),
    "outdoor": ("zewnetrzn", "zewnatrz", "=condenser", "na dworze", "=ogrod", "=ogrodzie", "garden", "agregat", "agregac", "outdoor", "=outside", "outside unit", "condenser unit", "=balkon", "=balkonie",
                "balcony", "=roof", "=dach", "=dachu", "elewac", "facade"),
    "indoor": ("wewnetrzn", "indoor", "sypialn", "bedroom", "=pokoj", "=pokoju", "salon",
               "living room", "wall unit", "wall-mounted", "naścienn", "cassette", "kaset",
               "=head", "evaporator", "parownik", "parownika"),
    # Not "woda"/"water" alone: water a tap gives lukewarm is no leak; a leak needs its evidence.
    "leak": ("ciek", "=cieknie", "kapi", "=kapie", "kapa", "kapal", "wyciek", "przeciek", "=leak", "leaks",
             "leaki", "leaked", "drip", "kaluz", "puddle", "zalew", "zalał", "zalal", "flood", "mokr", "=wet",
             "plama", "zaciek", "stain", "splyw", "skropl", "condensat", "leci woda", "woda leci",
             "leci mi woda", "woda z", "wody z", "water coming", "water pouring", "water running down", "water on the floor",
             "odplyw", "=drain", "drainage", "skrapl", "tacka", "tray", "pompka skropl", "condensate pump"),
    "nocooling": ("nie chlodz", "chlodz", "chlodzen", "=cool", "cooling", "cools", "ciepl powietrz",
                  "warm air", "=hot", "stays hot", "=chlodu", "=chlod", "no cooling", "stopped cooling", "gorac", "upal", "heatwave", "heat wave", "=stopni", "degrees",
                  "=zimnego", "cold air", "brak chlodu"),
    "noheating": ("nie grzej", "grzej", "grzan", "ogrzew", "grzejnik", "kaloryfer", "heating", "heats",
                  "radiator", "=zimno", "=zimne", "=zimna", "=cold", "freezing", "mroz", "frost", "=cieplej wody",
                  "hot water", "ciepla woda", "cieplej", "cwu", "=dhw", "underfloor", "podlogow"),
    "noise": ("halas", "glosn", "=glosno", "stuk", "puka", "pisz", "pisk", "bucz", "=szum", "szumi", "wibr",
              "trzeszcz", "zgrzyt", "grzech", "noise", "noisy", "=loud", "louder", "loudly", "rattl", "squeal", "squeak",
              "creak", "=click", "clicking", "clicks", "=roar", "roaring", "roars", "terkocz", "=halasuje", "halasuj",
              "buzz", "=hum", "humming", "grind", "knock", "bang", "vibrat", "clank", "whistl", "gwizd",
              "=klekot", "klekocz", "tick", "cyka"),
    "smell": ("zapach", "smierdz", "smrod", "stechl", "grzyb", "plesn", "odgrzyb", "=smell", "smells", "odour",
              "=odor", "stink", "musty", "=mould", "=mold", "mouldy", "moldy", "fungus", "bacteria", "bakteri",
              "=spalenizn", "spalenizna", "burning", "disinfect", "ozon", "=odswiez"),
    "ice": ("=lod", "zamroz", "zamarzl", "=lodu", "=lodem", "oszron", "oszran", "szron", "zamarz", "=froze", "oblodz", "odszran", "=ice", "=iced",
            "icing", "=icy", "frozen", "freez", "defrost", "zamrozon", "=frost", "frosted"),
    "errorcode": ("blad", "bled", "=kod", "=kodu", "=kodem", "=kody", "migaj", "miga", "=error", "errors",
                  "=fault", "faults", "blink", "flash", "=code", "=codes", "komunikat", "display", "wyswietl",
                  "lockout", "lock out", "locked out", "blokad", "zablokow", "=awaria"),
    # Not "włącz"/"start" alone: "po włączeniu" (once switched on) names no power fault.
    "nopower": ("nie wlacz", "nie uruchamia", "nie startuje", "=prad", "=pradu", "zasilan", "bezpiecznik", "=pilot",
                "pilota", "nie reaguj", "reaguj", "=power", "=dead", "turn on", "switch on", "won't start",
                "wont start", "will not start", "=trip", "trips", "tripping", "breaker", "=fuse", "=remote", "respond",
                "=rcd", "wybija", "korki"),
    "pressure": ("cisnien", "=pressure", "=bar", "=bara", "3 bar", "manometr", "gauge", "dopusc", "dopuszcz", "top up", "refill",
                 "=topping", "uzupelni", "naczynie wzbior", "expansion vessel", "=vessel", "repressur"),
    "refrigerant": ("czynnik", "chlodnicz", "brak gazu", "=fgas", "f-gas", "refrigerant", "recharg", "regas",
                    "=freon", "low on gas",
                    "dobic", "uzupelnienie czynnika", "=r410a", "=r32", "=r407c", "=r134a", "=r290",
                    "freon", "=cro", "szczeln", "tightness", "leak test", "leak check", "nieszczel"),
    "airflow": ("nawiew", "przeplyw", "airflow", "air flow", "=flow", "slabo dmucha", "dmucha", "=blow",
                "=blows", "blowing", "=wiatrak", "wentylator", "=fan", "=fans", "kratk", "grille",
                "=vents", "wywiew", "=draft", "przeciag", "=weak", "=duszno", "duszn", "stuffy",
                "moves any air", "malo powietrza"),
    "filter": ("filtr", "=filter", "filters", "clogged", "zapchan", "zatkan", "brudn", "dirty", "wymiana filtr"),
    # Cleaning apart from filters: a duct cleaning is not a clogged filter.
    "cleaning": ("dezynfek", "disinfect", "sanit", "dust", "kurz", "czyszcz", "=clean", "cleaning", "cleaned",
                 "=wash", "washed", "mycie", "umyc", "odgrzyb", "ozon"),
    "maintenance": ("przeglad", "serwis", "konserwac", "okresow", "corocz", "=roczny", "=annual", "=yearly",
                    "maintenance", "=service", "servicing", "=checkup", "check-up", "tune-up",
                    "service visit", "gwarancj", "warranty"),
    "installation": ("montaz", "montow", "zamontow", "instalac", "zainstal", "install", "=fit", "fitting",
                     "=fitted", "wycen", "=oferta", "=oferte", "=quote", "quotation", "estimate", "=nowy",
                     "=nowa", "=new", "dobor", "sizing", "=mount", "mounting",
                     "=replace", "replac", "wymian", "wymien", "=offer", "=koszt", "=price", "=cost", "=cena", "=ceny",
                     "=wycene", "=kupic", "=buy"),
    "inspection": ("kontrol", "inspekc", "inspect", "odbior", "protokol", "certyfik", "certificate",
                   "=report", "=raport", "rejestr", "register", "=cro", "obowiazk", "mandatory", "ustaw",
                   "regulation", "compliance", "commission", "=audit", "=audyt"),
    "combustion": ("spalin", "=flue", "combustion", "komin", "chimney", "exhaust", "przeglad kominiar",
                   "=co2", "=o2", "analiza spalin", "gas analysis", "wymiennik", "heat exchanger"),
    "shortage": ("ubyt", "brak gazu", "brak czynnika", "low on", "regas", "recharg", "dobic",
                 "napelnien", "top up gas", "uzupelnienie czynnika", "undercharg"),
    "heatmode": ("=heat", "to heat", "tryb grz", "trybie grz", "heating mode", "heat mode", "na grzanie", "=grzania",
                 "=zima", "=zimie", "=winter"),
    "thermostat": ("termostat", "thermostat", "sterownik", "controller", "=czujnik", "=czujnika", "sensor",
                   "=wifi", "wi-fi", "=app", "aplikac", "offline", "connection", "=laczy", "polacz", "internet", "harmonogram", "schedule", "programat", "timer",
                   "=panel", "=pilot", "=remote", "=ekran", "=ekranu", "=screen", "blank screen"),
    "gassmell": ("czuc gaz", "zapach gazu", "gas smell", "smell of gas", "smells of gas", "=ulatnia",
                 "ulatnianie", "gas leak", "wyciek gazu", "smell gas", "gas odour", "gas odor"),
    "coalarm": ("czad", "tlenek wegla", "carbon monoxide", "monoxide", "detector", "czujka", "czujnik czadu",
                "czujnik co", "czujka co", "co alarm", "co detector", "=beeping", "=beeps"),
    "compressor": ("sprezark", "kompresor", "compressor", "=starts", "=cycles", "cykl", "short cycl",
                   "taktuj", "wlacza i wylacza", "on and off"),
    "shortcycle": ("taktuj", "taktowan", "short cycl", "short-cycl", "on and off", "wlacza i wylacza",
                   "wlacza sie i wylacza", "starts and stops", "stopping and starting", "=cycling", "=cycles",
                   "co chwile", "every minute", "co minute", "startuje i staje", "keeps stopping"),
    "damage": ("burz", "=storm", "wichur", "wiatr", "=wind", "galaz", "branch", "=tree", "drzew", "upadl", "spadl",
               "=fell", "fallen", "wgniec", "=dent", "dented", "uszkodz", "damag", "zniszcz", "zerwal", "ripped",
               "=torn", "=hail", "grad", "=vandal", "kradziez", "stolen", "bracket", "wspornik", "uchwyt"),
    "relocation": ("przenies", "przeniesien", "relocat", "=move", "=moved", "=moving", "przeprowadz",
                   "demontaz", "zdemontow", "=zdjac", "take down", "taken down", "dismantl", "=removal",
                   "=remove", "=refit", "refitted", "ponowny montaz", "elewac", "facade", "remont", "renovat"),
    "underfloor": ("podlogowk", "podlogow", "underfloor", "floor heating", "=ufh", "rozdzielacz", "manifold",
                   "=petla", "=petli", "petla", "=loop", "=loops", "silownik", "actuator"),
    "ignition": ("zaplon", "zapal", "odpal", "iskr", "=spark", "sparks", "ignit", "=ignition", "plomien",
                 "plomienia", "=flame", "=light", "=lights", "=fire", "=fires", "elektrod", "electrode",
                 "jonizac", "ionisation", "ionization", "=klika", "=click", "clicking", "clicks"),
    "expansion": ("naczynie wzbior", "naczynia wzbior", "wzbiorcz", "expansion vessel", "=vessel",
                  "zawor bezpiecz", "safety valve", "relief valve", "=relief", "rosnie cisnien",
                  "za wysokie cisnien", "pressure too high", "pressure climbs", "high pressure", "=3 bar"),
    "serverroom": ("serwerowni", "serwerownia", "server room", "=server", "=servers", "data room",
                   "data centre", "data center", "precyzyjn", "precision", "=it room", "przegrz", "overheat"),
    "duct": ("=kanal", "kanaly", "kanalow", "kanalach", "=duct", "ducts", "ductwork", "przewod wentyl",
             "przewodow wentyl", "anemostat", "kratki wentyl"),
    "electricity": ("=prad", "=pradu", "=rachunek", "rachunk", "=bill", "=bills", "electricity",
                    "=energy", "energi", "zuzyci", "consumption", "=cop", "=scop", "wydajnosc", "efficien",
                    "grzalk", "backup heater", "immersion", "=heater", "heating curve", "krzywa grzew"),
    "hotwater": ("ciepla woda", "cieplej wody", "ciepla wode", "ciepla wody", "heating water", "heat water", "cold water",
                 "zimna woda", "=cwu", "hot water", "=dhw", "=kran", "=kranu", "=kranow", "=kranie",
                 "woda z kranu", "wody z kranu", "z kranu", "ciepla woda z", "cieplej wody z", "zimna woda z", "letnia woda z", "letniej wody z", "woda w kranie", "letnia woda", "letniej wody", "letnia wode",
                 "ciepla woda uzytkow", "cieplej wody uzytkow", "woda uzytkow", "wody uzytkow", "tap water",
                 "lukewarm water", "warm water", "hot tap", "nie wode", "grzeje wode", "grzania wody",
                 "podgrzewa wode", "podgrzewania wody", "=tap", "=taps", "prysznic", "shower", "zawor trojdrog", "diverter", "=zasobnik", "cylinder"),
    "radiator": ("grzejnik", "kaloryfer", "radiator", "odpowietrz", "=bleed", "=bled", "bulgot", "gurgl",
                 "=air in", "zapowietrz", "letni", "lukewarm", "zawor termostat", "trv"),
    "chillerplant": ("chiller", "wody lodowej", "woda lodowa", "chilled water", "klimakonwektor", "fan coil",
                     "fancoil", "=vrf", "=vrv", "biurow", "office building", "rooftop", "=dach"),
    "pipes": ("=rura", "=rury", "=rur", "=rurki", "rurk", "instalacja chlodnicza", "pipe", "pipes", "piping",
              "=line", "=lines", "izolac", "insulation", "otulin", "lagging"),
}

_MULTI = re.compile(r"\s+")
_WORD = re.compile(r"[\w/+-]+", re.UNICODE)
# A device's error code ("e6", "f28", "ch05", "h62"): letters then digits, not a refrigerant (r32).
_ERROR_CODE = re.compile(r"(?!r\d)[a-z]{1,2}-?\d{1,3}")


def concept_token(name: str) -> str:
    return f"{CONCEPT_PREFIX}{name}"


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, list[tuple[str, str]]], list[tuple[tuple[str, ...], str, bool]]]:
    """Single-word stems by their first letter (whole-word ones end in NUL) and phrases by their
    words (with the whole-word flag)."""
    singles: dict[str, list[tuple[str, str]]] = {}
    phrases: list[tuple[tuple[str, ...], str, bool]] = []
    for concept, stems in CONCEPTS.items():
        for stem in stems:
            whole = stem.startswith("=")
            folded = text_fold(stem.lstrip("="))
            words = tuple(_MULTI.split(folded.strip()))
            if len(words) > 1:
                phrases.append((words, concept, whole))
            elif words[0]:
                singles.setdefault(words[0][0], []).append((words[0] + ("\x00" if whole else ""), concept))
    return singles, phrases


@lru_cache(maxsize=200_000)
def _word_concepts(word: str) -> frozenset[str]:
    singles, _ = _tables()
    found = set()
    for stem, concept in singles.get(word[:1], ()):
        if stem.endswith("\x00"):
            if word == stem[:-1]:
                found.add(concept)
        elif word.startswith(stem):
            found.add(concept)
    return frozenset(found)


def concepts_of(text: str) -> list[str]:
    """The vocabulary's concepts named in a text (sorted).

    Phrases first: the words of a matched phrase name only the phrase's concept, so "heat pump"
    is no heating mode, "hot water" no lack of cooling and "ciepła woda" no leak."""
    words = [w for w in _WORD.findall(text_fold(text or "")) if w]
    found: set[str] = set()
    consumed: set[int] = set()
    _, phrases = _tables()
    # Longer phrases first, left to right; a word read by one phrase is not read by another, so
    # "woda z kranu" (tap water) leaves no "woda z" (water coming out of a unit: a leak).
    for size in (3, 2):
        for i in range(len(words) - size + 1):
            if consumed.intersection(range(i, i + size)):
                continue
            window = words[i: i + size]
            for phrase, concept, whole in phrases:
                # Every word of a phrase is a stem ("zawor bezpiecz" matches "zaworu bezpieczeństwa"),
                # unless the phrase is whole-word: "=air in" must not read "aircon in".
                if len(phrase) == size and (window == list(phrase) if whole else all(
                        w.startswith(p) for w, p in zip(window, phrase, strict=True))):
                    found.add(concept)
                    consumed.update(range(i, i + size))
    for i, word in enumerate(words):
        if i not in consumed:
            found |= _word_concepts(word)
    if any(_ERROR_CODE.fullmatch(w) for w in words):
        found.add("errorcode")
    return sorted(found)


def concept_tokens(text: str) -> list[str]:
    """The concept tokens of a text ("hvleak", "hvaircon"...): the terms both languages share."""
    return [concept_token(c) for c in concepts_of(text)]


# --- typo tolerance -------------------------------------------------------------------------------
# A misspelt word ("klematyzacja", "drpiping") names no concept by the stems above. The query side
# reads such a word (one the lemmatiser does not know, engine/lexical.py decides) against the
# single-word stems of at least FUZZY_MIN_STEM letters at one edit (a letter dropped, added,
# changed or two neighbours swapped). Short stems stay exact: at one edit "=heat" would be "heal".
FUZZY_MIN_STEM = 5


def within_one_edit(a: str, b: str) -> bool:
    """Whether two words are at most one edit apart (Damerau: a swap of neighbours is one edit)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


@lru_cache(maxsize=1)
def _fuzzy_stems() -> tuple[tuple[str, str, bool], ...]:
    out = []
    for concept, stems in CONCEPTS.items():
        for stem in stems:
            folded = text_fold(stem.lstrip("="))
            if " " not in folded and len(folded) >= FUZZY_MIN_STEM:
                out.append((folded, concept, stem.startswith("=")))
    return tuple(out)


@lru_cache(maxsize=20_000)
def concepts_fuzzy(word: str) -> frozenset[str]:
    """The concepts of a folded word at one edit from a stem: a whole-word stem against the word,
    a prefix stem against the word's beginning of the stem's length (one letter either way)."""
    if concepts_of(word):
        return frozenset()  # spelt as the vocabulary knows it: no guessing
    found = set()
    for stem, concept, whole in _fuzzy_stems():
        if whole:
            if within_one_edit(word, stem):
                found.add(concept)
            continue
        n = len(stem)
        if any(within_one_edit(word[:m], stem) for m in (n - 1, n, n + 1) if m <= len(word)):
            found.add(concept)
    return frozenset(found)
