"""The privacy filter: what may reach the vector store.

Names, phone numbers, e-mail addresses and street addresses are replaced by placeholders;
coordinates in the text are coarsened to a grid of at least 500 m. Pure Python, no Django.

Names are the hard part. We remove, in order: names the caller knows (the client's own name),
a person after a title or an introduction ("Pan Jan Kowalski", "my name is John Smith",
"Pozdrawiam, Anna"), common Polish and English first names with the capitalised word after them,
and capitalised words with Polish surname endings (-ski, -cka, -wicz...). It over-removes rather
than leaks: a lost capitalised word costs little in retrieval.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

EMAIL = "[email]"
PHONE = "[phone]"
ADDRESS = "[address]"
NAME = "[name]"
POSTAL = "[postal code]"

_UPPER = "A-ZĄĆĘŁŃÓŚŹŻ"
_LOWER = "a-ząćęłńóśźż"
_WORD = rf"[{_UPPER}][{_LOWER}{_UPPER}\-]+"

_EMAIL_RE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# A run of digits with the separators phone numbers use; kept only when it holds 9+ digits, so
# error codes (E10), models (FTXM35), years and prices stay.
_PHONE_RE = re.compile(r"(?<![\w.])(?:\+|00)?\(?\d[\d\s\-().]{7,}\d(?![\w.,]\d)")
_POSTAL_RE = re.compile(r"\b\d{2}-\d{3}\b")
_STREET_PL = re.compile(
    rf"\b(?:ul|ulica|ulicy|al|aleja|alei|alejach|pl|plac|placu|os|osiedle|osiedlu|skwer)\.?\s+"
    rf"(?:(?:{_WORD}|\d{{1,2}}|[Ww]\.|[Ss]w\.|[Śś]w\.)\s+){{0,3}}{_WORD}"
    r"(?:\s+\d+[A-Za-z]?(?:\s*(?:/|m\.?|lok\.?|mieszk\.?)\s*\d+[A-Za-z]?)?)?",
)
_STREET_EN = re.compile(
    r"\b\d+[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Square|Sq|Close|Terrace)\b\.?"
    r"(?:,?\s*(?:flat|apt\.?|apartment|unit)\s*\d+[A-Za-z]?)?",
    re.IGNORECASE,
)
# "Puławska 12/4" after "na"/"przy" (a street without the "ul." prefix).
_STREET_PL_BARE = re.compile(rf"\b(?:na|przy|on|at)\s+{_WORD}\s+\d+[A-Za-z]?(?:\s*/\s*\d+[A-Za-z]?)\b")
_COORDS_RE = re.compile(r"(-?\d{1,2}\.\d{3,})\s*[,;]\s*(-?\d{1,3}\.\d{3,})")

_TITLES = (
    r"Pan|Pani|Pana|Panu|Panem|Panią|Państwo|Państwa|Mr|Mrs|Ms|Miss|Dr|Doctor|Sir|Madam|"
    r"nazywam się|nazywa się|mam na imię|my name is|name is|this is|I am|I'm|"
    r"Pozdrawiam|Z poważaniem|Dziękuję|Dzięki|Regards|Best regards|Kind regards|Thanks|Thank you|Cheers|"
    r"kontakt z|contact|technik|technician|sąsiad|neighbour|neighbor|żona|mąż|wife|husband"
)
_TITLED_RE = re.compile(rf"\b({_TITLES})\.?,?\s+((?:{_WORD})(?:\s+{_WORD})?)")

_PL_FIRST = (
    "Adam Adrian Agata Agnieszka Aleksander Aleksandra Alicja Andrzej Aneta Anna Antoni Arkadiusz Artur "
    "Barbara Bartek Bartłomiej Bartosz Beata Bogdan Bożena Cezary Damian Daniel Danuta Dariusz Dawid "
    "Dominik Dorota Edyta Elżbieta Emil Ewa Ewelina Filip Grażyna Grzegorz Halina Hanna Henryk Iwona "
    "Izabela Jacek Jadwiga Jakub Jan Janina Janusz Jarosław Jerzy Joanna Jolanta Józef Julia Justyna "
    "Kamil Karol Karolina Katarzyna Kazimierz Kinga Krystyna Krzysztof Leszek Łukasz Maciej Magdalena "
    "Małgorzata Marcin Marek Maria Mariusz Marta Marzena Mateusz Michał Mirosław Monika Natalia "
    "Patrycja Paulina Paweł Piotr Przemysław Rafał Renata Robert Roman Ryszard Sebastian Stanisław "
    "Sylwia Szymon Tadeusz Teresa Tomasz Urszula Wiesław Wiktoria Witold Władysław Wojciech Zbigniew "
    "Zofia Zuzanna Dorota Marta Alicja"
).split()
_EN_FIRST = (
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew "
    "Anthony Mark Paul Steven Andrew Kenneth Joshua Kevin Brian George Edward Ronald Timothy Jason "
    "Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel "
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty Margaret "
    "Sandra Ashley Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie Rebecca Laura Sharon "
    "Cynthia Kathleen Amy Angela Emma Olivia Sophie Chloe Lucy Oliver Harry Jack Charlie Alice Kate Tom"
).split()
# Polish names decline (Anna, Anny, Annę, Anną, Annie; Jan, Jana, Janem, Janowi).
_PL_ENDINGS = r"(?:a|y|i|ie|ę|ą|o|u|em|owi|om|ek|ka|ki|ku|kiem|ce)?"


def _pl_stem(name: str) -> str:
    return name[:-1] if name.endswith("a") and len(name) > 3 else name


_FIRST_RE = re.compile(
    r"\b(?:"
    + "|".join(sorted({re.escape(_pl_stem(n)) + _PL_ENDINGS for n in _PL_FIRST}, key=len, reverse=True))
    + "|"
    + "|".join(sorted({re.escape(n) for n in _EN_FIRST}, key=len, reverse=True))
    + rf")(?:'s)?\b(?:\s+{_WORD})?"
)
_SURNAME_RE = re.compile(
    rf"\b[{_UPPER}][{_LOWER}]+(?:ski|ska|skiego|skiej|skiemu|skim|ską|scy|cki|cka|ckiego|ckiej|ckim|cką|"
    rf"dzki|dzka|dzkiego|dzkiej|wicz|wicza|wiczowi|wiczem|wiczowa|czyk|czyka|czykiem|ńska|ński|ńskiej|ńskiego)\b"
)
# Words a title regex must not take as a name (capitalised equipment, districts, brands).
_NOT_NAMES = {
    "Daikin", "Mitsubishi", "Vaillant", "Viessmann", "Junkers", "Bosch", "Panasonic", "Fujitsu", "LG",
    "Samsung", "Gree", "Toshiba", "Buderus", "Mokotów", "Wola", "Wilanów", "Ursynów", "Bemowo",
    "Śródmieście", "Żoliborz", "Bielany", "Targówek", "Praga", "Wawer", "Ochota", "Ursus", "Włochy",
    "Wesoła", "Rembertów", "Białołęka", "Warszawa", "Warsaw", "Polska", "Poland",
}


def coarsen_point(latitude: float, longitude: float, *, cell_m: int = 500) -> tuple[float, float]:
    """The centre of the grid cell (at least 500 m on a side) that holds the point."""
    cell_m = max(500, int(cell_m))
    dlat = cell_m / 111_320.0
    lat = (math.floor(latitude / dlat) + 0.5) * dlat
    # The cell width in longitude follows the row's centre, so every point of a row agrees.
    dlng = cell_m / (111_320.0 * max(0.1, math.cos(math.radians(lat))))
    lng = (math.floor(longitude / dlng) + 0.5) * dlng
    return round(lat, 4), round(lng, 4)


def _known_name_re(names: Iterable[str]) -> re.Pattern | None:
    parts: set[str] = set()
    for name in names:
        for part in re.split(r"[\s,]+", name or ""):
            part = part.strip(".")
            if len(part) >= 3 and part[0].isupper() and part not in _NOT_NAMES:
                parts.add(re.escape(_pl_stem(part)) + r"\w{0,4}")
    if not parts:
        return None
    return re.compile(r"\b(?:" + "|".join(sorted(parts, key=len, reverse=True)) + r")\b")


def privacy_filter(text: str, *, known_names: Iterable[str] = (), cell_m: int = 500) -> str:
    """The text with personal data removed and coordinates coarsened; idempotent."""
    if not text:
        return ""
    out = _EMAIL_RE.sub(EMAIL, text)

    def _coords(m: re.Match) -> str:
        lat, lng = float(m.group(1)), float(m.group(2))
        if -90 <= lat <= 90 and -180 <= lng <= 180:
            clat, clng = coarsen_point(lat, lng, cell_m=cell_m)
            return f"{clat:.3f}, {clng:.3f}"
        return m.group(0)

    out = _COORDS_RE.sub(_coords, out)

    def _phone(m: re.Match) -> str:
        digits = sum(ch.isdigit() for ch in m.group(0))
        return PHONE if digits >= 9 else m.group(0)

    out = _PHONE_RE.sub(_phone, out)
    out = _STREET_PL.sub(ADDRESS, out)
    out = _STREET_EN.sub(ADDRESS, out)
    out = _STREET_PL_BARE.sub(lambda m: m.group(0).split()[0] + " " + ADDRESS, out)
    out = _POSTAL_RE.sub(POSTAL, out)
    known = _known_name_re(known_names)
    if known is not None:
        out = known.sub(NAME, out)

    def _titled(m: re.Match) -> str:
        words = m.group(2).split()
        if words[0] in _NOT_NAMES:
            return m.group(0)
        return m.group(0)[: m.start(2) - m.start(0)] + NAME

    out = _TITLED_RE.sub(_titled, out)
    out = _FIRST_RE.sub(lambda m: m.group(0) if m.group(0) in _NOT_NAMES else NAME, out)
    out = _SURNAME_RE.sub(NAME, out)
    out = re.sub(r"(?:\[name\][\s,]*){2,}", NAME + " ", out)
    return re.sub(r"[ \t]{2,}", " ", out).strip()
