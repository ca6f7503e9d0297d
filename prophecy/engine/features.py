"""Text features of one HVAC text: language, keywords (lemmas), service indicators, symptoms,
equipment kinds and error codes. Pure Python (simplemma does Polish and English inflection)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import simplemma

from prophecy.engine.vocabulary import concept_tokens

LANGS = ("pl", "en")

_STOP = set(
    """
    a aby ale am an and ani any are as at be been but by było być ce co czy dla do dziś dzień dobry for
    from go had has have he her here his how i ich if in is it its ja jak jako jest je jeszcze już ka
    ktory który która które lub ma mam me mi mnie my na nad nie no nor not o od of on ona one oni or
    our po pod proszę przez przy sa się są so ta tak także te ten tej tego teraz the their them then
    there these they this to too tu u w we was were what when which who why will with within would
    wszystko z za ze że you your mój moja moje nasz nasza please hello hi dzień być mieć get have
    """.split()
)

STOP_WORDS = frozenset(_STOP)

# lemma -> indicator. Lemmas as simplemma returns them (Polish and English).
SYMPTOMS: dict[str, tuple[str, ...]] = {
    "leak": ("kapać", "ciec", "cieknąć", "wyciek", "przeciek", "woda", "mokry", "skropliny", "kałuża", "leak",
             "drip", "water", "wet", "condensate", "kapie", "cieknie", "puddle"),
    "noise": ("hałas", "hałasować", "głośny", "głośno", "stukać", "stukanie", "piszczeć", "buczeć", "szum",
              "wibrować", "noise", "noisy", "loud", "rattle", "rattling", "squeal", "buzz", "hum", "grind",
              "knock", "vibrate"),
    "no_cooling": ("chłodzić", "chłodzenie", "ciepły", "gorąco", "gorący", "cool", "cooling", "warm", "hot"),
    "no_heating": ("grzać", "ogrzewanie", "kaloryfer", "grzejnik", "heating", "radiator", "zimno", "cold"),
    "smell": ("zapach", "śmierdzieć", "smród", "stęchlizna", "grzyb", "pleśń", "odgrzybianie", "smell", "odour",
              "odor", "stink", "musty", "mould", "mold", "mouldy", "moldy"),
    "ice": ("lód", "oszronić", "szron", "zamarzać", "oblodzenie", "odszraniać", "ice", "iced", "frost",
            "frozen", "freeze", "defrost"),
    "error": ("błąd", "kod", "migać", "error", "code", "fault", "blink", "flash"),
    "no_power": ("włączać", "wyłączać", "prąd", "zasilanie", "bezpiecznik", "pilot", "uruchomić", "reagować",
                 "power", "start", "trip", "breaker", "remote", "respond", "turn"),
    "pressure": ("ciśnienie", "pressure", "bar", "bara"),
    "refrigerant": ("czynnik", "chłodniczy", "szczelność", "gaz", "refrigerant", "fgas", "gas", "recharge",
                    "cro", "r410a", "r32", "r407c", "r134a"),
    "airflow": ("nawiew", "nawiewać", "przepływ", "airflow", "supply", "filtr", "filter"),
}
EQUIPMENT: dict[str, tuple[str, ...]] = {
    "split_ac": ("klimatyzacja", "klimatyzator", "klima", "split", "conditioner", "conditioning", "aircon", "ac"),
    "heat_pump": ("heat pump",),
    "gas_boiler": ("kocioł", "piec", "kociołek", "kotle", "boiler", "furnace", "c.o"),
    "ventilation": ("wentylacja", "rekuperator", "rekuperacja", "ventilation", "recuperator", "mvhr",
                    "heat recovery"),
    "chiller": ("chiller",),
    "outdoor_unit": ("zewnętrzny", "agregat", "outdoor", "outside", "condenser", "balkon"),
    "indoor_unit": ("wewnętrzny", "indoor", "wall-mounted", "sypialnia"),
}
SERVICE: dict[str, tuple[str, ...]] = {
    "installation": ("montaż", "instalacja", "zamontować", "zainstalować", "nowy", "install", "installation",
                     "installing", "fit", "fitted", "new", "quote", "wycena", "oferta", "offer"),
    "maintenance": ("przegląd", "serwis", "konserwacja", "czyszczenie", "wyczyścić", "coroczny", "okresowy",
                    "maintenance", "service", "clean", "cleaning", "annual", "yearly", "roczny"),
    "repair": ("naprawa", "naprawić", "awaria", "zepsuć", "usterka", "repair", "fix", "broken", "fault"),
    "inspection": ("kontrola", "szczelność", "inspekcja", "odbiór", "inspection", "check", "certificate",
                   "mandatory", "register"),
}
_ERROR_CODE = re.compile(r"\b(?!R\d{2,4}[A-Za-z]?\b)([A-Z]{1,2}-?\d{1,3})\b")
_TOKEN = re.compile(r"[\wąćęłńóśźżĄĆĘŁŃÓŚŹŻ]+", re.UNICODE)


@dataclass
class TextFeaturesData:
    language: str
    keywords: list[str] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    equipment: list[str] = field(default_factory=list)
    service_indicators: list[str] = field(default_factory=list)
    error_codes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def language_detect(text: str) -> str:
    if not text.strip():
        return "pl"
    scores = dict((lang, score) for lang, score in simplemma.langdetect(text, lang=LANGS))
    if re.search(r"[ąćęłńóśźż]", text.lower()):
        scores["pl"] = scores.get("pl", 0) + 0.2
    return "en" if scores.get("en", 0) > scores.get("pl", 0) else "pl"


@lru_cache(maxsize=100_000)
def _lemma(token: str, lang: str) -> str:
    other = "en" if lang == "pl" else "pl"
    return simplemma.lemmatize(token, lang=(lang, other)).lower()


@lru_cache(maxsize=100_000)
def word_known(token: str) -> bool:
    """Whether the lemmatiser knows a lower-case word in Polish or English (a misspelt one it does not)."""
    return simplemma.is_known(token, lang=LANGS)


def lemmas(text: str, *, language: str | None = None) -> list[str]:
    """Lower-case lemmas of the words of a text, stop words dropped (order kept, repeats kept)."""
    lang = language or language_detect(text)
    out = []
    for raw in _TOKEN.findall(text):
        token = raw.lower()
        if token.isdigit() or token in _STOP or len(token) < 2:
            continue
        lemma = _lemma(token, lang)
        if lemma in _STOP:
            continue
        out.append(lemma)
    return out


def _indicators(words: set[str], table: dict[str, tuple[str, ...]]) -> list[str]:
    return sorted(key for key, vocab in table.items() if words.intersection(vocab))


def features_extract(text: str) -> TextFeaturesData:
    language = language_detect(text)
    words = lemmas(text, language=language)
    raw = {t.lower() for t in _TOKEN.findall(text)}
    bag = set(words) | raw
    keywords = list(dict.fromkeys(w for w in words if len(w) >= 3 and not w.startswith("[")))
    if "pompa" in bag and ("ciepło" in bag or "ciepła" in raw):
        bag.add("heat pump")
    if "heat" in bag and "pump" in bag:
        bag.add("heat pump")
    if ("heat" in bag or "ciepło" in bag) and bag.intersection({"recovery", "odzysk", "odzyskiem"}):
        bag.add("heat recovery")
    symptoms = _indicators(bag, SYMPTOMS)
    equipment = _indicators(bag, EQUIPMENT)
    if "no_heating" in symptoms and "no_cooling" in symptoms and "split_ac" in equipment:
        # "warm air instead of cold" from an air conditioner is a cooling fault, not a heating one.
        symptoms.remove("no_heating")
    codes = sorted({c.replace("-", "") for c in _ERROR_CODE.findall(text)})
    if codes and "error" not in symptoms:
        symptoms = sorted([*symptoms, "error"])
    return TextFeaturesData(
        language=language,
        # The concept tokens ride with the lemmas: they are what a query in the other language
        # shares with this text (engine/vocabulary.py).
        keywords=[*keywords[:64], *concept_tokens(text)],
        symptoms=symptoms,
        equipment=equipment,
        service_indicators=_indicators(bag, SERVICE),
        error_codes=codes,
    )
