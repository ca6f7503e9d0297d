"""The demo's job texts: what clients write and what technicians answer, composed from symptoms,
units, places, brands' error codes and phrasings, in Polish and English. Pure Python.

Written apart from prophecy's retrieval evaluation corpus (`prophecy/tests/data/`): the demo is
what search runs over on `make run`, the corpus is what it is measured on, and a test keeps the two
from sharing a sentence, so the measured figures are not a memory of the demo.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Unit names by equipment kind: (Polish nominative, Polish genitive, English).
UNITS: dict[str, list[tuple[str, str, str]]] = {
    "split_ac": [("klimatyzator", "klimatyzatora", "air conditioner"), ("klimatyzacja", "klimatyzacji", "AC unit"),
                 ("split", "splitu", "split unit"), ("jednostka wewnętrzna", "jednostki wewnętrznej", "indoor unit")],
    "multi_split": [("klimatyzacja multi split", "klimatyzacji multi split", "multi-split system"),
                    ("jednostka zewnętrzna multi", "jednostki zewnętrznej multi", "multi-split outdoor unit")],
    "heat_pump": [("pompa ciepła", "pompy ciepła", "heat pump"),
                  ("pompa ciepła powietrze-woda", "pompy ciepła powietrze-woda", "air-to-water heat pump")],
    "gas_boiler": [("kocioł gazowy", "kotła gazowego", "gas boiler"), ("piec gazowy", "pieca gazowego", "combi boiler"),
                   ("kocioł kondensacyjny", "kotła kondensacyjnego", "condensing boiler")],
    "ventilation": [("rekuperator", "rekuperatora", "MVHR unit"),
                    ("centrala wentylacyjna", "centrali wentylacyjnej", "ventilation unit")],
    "chiller": [("agregat wody lodowej", "agregatu wody lodowej", "chiller")],
}
PLACES = [("w salonie", "in the living room"), ("w sypialni", "in the bedroom"), ("w biurze", "in the office"),
          ("w serwerowni", "in the server room"), ("w kuchni", "in the kitchen"), ("na poddaszu", "in the attic"),
          ("w pokoju dziecka", "in the kids' room"), ("w sali konferencyjnej", "in the meeting room"),
          ("w gabinecie", "in the study"), ("w sklepie", "in the shop"), ("na recepcji", "at the reception"),
          ("w kotłowni", "in the boiler room"), ("w garażu", "in the garage"), ("na piętrze", "upstairs"),
          ("w łazience", "in the bathroom"), ("w restauracji", "in the restaurant")]
# Error codes by brand: (code, Polish meaning, English meaning).
CODES: dict[str, list[tuple[str, str, str]]] = {
    "Daikin": [("U4", "brak komunikacji jednostek", "no communication between units"),
               ("A5", "zabezpieczenie przed zamarzaniem", "freeze protection"), ("E7", "silnik wentylatora", "fan motor"),
               ("U0", "niedobór czynnika", "low refrigerant")],
    "Mitsubishi Electric": [("E6", "błąd komunikacji", "communication fault"), ("P8", "temperatura rury", "pipe temperature"),
                            ("U4", "czujnik sprężarki", "compressor sensor")],
    "LG": [("CH05", "komunikacja", "communication"), ("CH38", "niedobór czynnika", "low refrigerant"),
           ("CH10", "wentylator jednostki wewnętrznej", "indoor fan")],
    "Gree": [("E1", "wysokie ciśnienie", "high pressure"), ("H6", "silnik wentylatora", "fan motor"),
             ("F1", "czujnik temperatury", "temperature sensor")],
    "Fujitsu": [("E5", "czujnik temperatury", "temperature sensor"), ("EA", "komunikacja", "communication")],
    "Panasonic": [("H15", "czujnik sprężarki", "compressor sensor"), ("F95", "wysokie ciśnienie", "high pressure"),
                  ("H62", "przepływ wody", "water flow")],
    "Vaillant": [("F28", "brak zapłonu", "ignition failure"), ("F29", "zanik płomienia", "flame loss"),
                 ("F22", "za niskie ciśnienie wody", "low water pressure"), ("F75", "czujnik ciśnienia", "pressure sensor")],
    "Viessmann": [("F4", "brak płomienia", "no flame"), ("F9", "zbyt niskie ciśnienie", "pressure too low"),
                  ("EE", "brak sygnału płomienia", "no flame signal")],
    "Junkers": [("EA", "brak jonizacji", "no flame detected"), ("CE", "niskie ciśnienie", "low pressure"),
                ("E9", "przegrzanie", "overheating")],
    "Zehnder": [("A01", "alarm filtra", "filter alarm")], "Brink": [("E10", "czujnik temperatury", "temperature sensor")],
    "Carrier": [("A1", "wysokie ciśnienie", "high pressure")], "Trane": [("LP", "niskie ciśnienie", "low pressure")],
}


@dataclass(frozen=True)
class Problem:
    """One kind of call: the units it happens to, when (cool/heat season or any), how clients put it
    (Polish verb phrases with the unit as subject, English ones) and what was found and done."""

    key: str
    kinds: tuple[str, ...]
    season: str
    pl: tuple[str, ...]
    en: tuple[str, ...]
    fix_pl: tuple[str, ...]
    fix_en: tuple[str, ...]
    code: bool = False


COOL = ("split_ac", "multi_split", "heat_pump", "chiller")
HEAT = ("gas_boiler", "heat_pump")
REPAIRS = [
    Problem("nocool", COOL, "cool", ("nie chłodzi", "dmucha ciepłym powietrzem", "ledwo chłodzi mimo 18 stopni na pilocie",
                                     "przestała chłodzić w upał"),
            ("is not cooling", "blows warm air", "barely cools even set to 18 degrees", "stopped cooling in the heat"),
            ("niedobór czynnika po nieszczelności na kielichu; usunięto wyciek, próba azotem, uzupełniono {kg} kg czynnika",
             "zabrudzony skraplacz; umyto wymiennik jednostki zewnętrznej, ciśnienia w normie",
             "uszkodzony kondensator rozruchowy sprężarki; wymieniono kondensator"),
            ("refrigerant low after a leak at a flare joint; leak fixed, nitrogen test, {kg} kg recharged",
             "dirty condenser coil; outdoor coil washed, pressures back to normal",
             "failed compressor start capacitor; capacitor replaced")),
    Problem("drip", ("split_ac", "multi_split"), "cool",
            ("cieknie, woda kapie na podłogę", "zostawia mokrą plamę na ścianie", "kapie z obudowy, podstawiliśmy miskę"),
            ("is leaking water onto the floor", "leaves a wet stain on the wall", "drips from the casing, we put a bowl under it"),
            ("zatkany odpływ skroplin; przeczyszczono odpływ i tackę, poprawiono spadek węża",
             "niesprawna pompka skroplin; wymieniono pompkę", "zamarznięty parownik przez brudne filtry; filtry umyte, odszranianie"),
            ("blocked condensate drain; drain and tray cleared, hose fall corrected", "condensate pump failed; pump replaced",
             "evaporator iced up by dirty filters; filters washed, defrosted")),
    Problem("noise_out", ("split_ac", "multi_split", "heat_pump"), "any",
            ("głośno pracuje, agregat na balkonie stuka", "wibruje i buczy jednostka zewnętrzna", "piszczy przy starcie"),
            ("is noisy, the outdoor unit on the balcony rattles", "outdoor unit vibrates and hums", "squeals when it starts"),
            ("luźne śruby obudowy i zużyte podkładki antywibracyjne; wymieniono podkładki",
             "łożysko wentylatora skraplacza; wymieniono silnik wentylatora", "poluzowany wspornik; dokręcono i wypoziomowano"),
            ("loose panel screws and worn anti-vibration pads; pads replaced", "condenser fan bearing; fan motor replaced",
             "loose wall bracket; tightened and levelled")),
    Problem("smell", ("split_ac", "multi_split", "ventilation"), "cool",
            ("śmierdzi stęchlizną po włączeniu", "wydmuchuje zapach pleśni"),
            ("smells musty when switched on", "blows a mouldy smell"),
            ("zagrzybiony wymiennik; czyszczenie i dezynfekcja parownika oraz turbiny",
             "brudne filtry i taca skroplin; dezynfekcja i nowe filtry"),
            ("mould on the coil; evaporator and blower cleaned and disinfected", "dirty filters and drain tray; disinfected, new filters")),
    Problem("code_ac", ("split_ac", "multi_split"), "any", ("pokazuje błąd {code} i się wyłącza", "miga kodem {code}"),
            ("shows error {code} and shuts down", "flashes code {code}"),
            ("kod {code} ({meaning}); sprawdzono przewód komunikacyjny, poprawiono zaciski",
             "kod {code} ({meaning}); wymieniono czujnik, test pracy 30 min"),
            ("code {code} ({meaning_en}); communication cable checked, terminals redone",
             "code {code} ({meaning_en}); sensor replaced, 30 min test run"), code=True),
    Problem("noheat", HEAT, "heat", ("nie grzeje, kaloryfery zimne", "przestał grzać w nocy", "grzeje tylko wodę, grzejniki letnie"),
            ("is not heating, radiators cold", "stopped heating overnight", "heats only the tap water, radiators lukewarm"),
            ("zapowietrzona instalacja; odpowietrzono grzejniki i kocioł, uzupełniono ciśnienie do 1,5 bar",
             "zablokowany zawór trójdrogowy; wymieniono siłownik zaworu", "uszkodzona pompa obiegowa; wymieniono pompę"),
            ("air in the system; radiators and boiler bled, pressure topped up to 1.5 bar",
             "diverter valve stuck; valve actuator replaced", "circulation pump failed; pump replaced")),
    Problem("code_boiler", ("gas_boiler",), "heat", ("wyświetla błąd {code} i nie odpala", "staje z kodem {code}"),
            ("shows fault {code} and will not fire", "locks out with code {code}"),
            ("kod {code} ({meaning}); wymieniono elektrodę zapłonową, analiza spalin w normie",
             "kod {code} ({meaning}); oczyszczono syfon kondensatu, reset i próba"),
            ("code {code} ({meaning_en}); ignition electrode replaced, flue gas analysis fine",
             "code {code} ({meaning_en}); condensate trap cleaned, reset and test"), code=True),
    Problem("pressure", ("gas_boiler",), "heat", ("traci ciśnienie, co dzień dopuszczam wodę", "ciśnienie skacze do 3 bar"),
            ("keeps losing pressure, I top it up every day", "pressure climbs to 3 bar"),
            ("nieszczelny zawór bezpieczeństwa; wymieniono zawór", "rozładowane naczynie wzbiorcze; napompowano do 1 bar"),
            ("safety valve passing; valve replaced", "expansion vessel flat; recharged to 1 bar")),
    Problem("nohotwater", ("gas_boiler", "heat_pump"), "any", ("nie daje ciepłej wody", "leci tylko letnia woda z kranu"),
            ("gives no hot water", "only lukewarm water from the tap"),
            ("kamień w wymienniku płytowym; odkamienianie wymiennika", "czujnik przepływu; wymieniono turbinkę przepływomierza"),
            ("scale in the plate heat exchanger; descaled", "flow sensor; flow turbine replaced")),
    Problem("hp_ice", ("heat_pump",), "heat", ("oblodziła się i słabo grzeje", "staje w mrozie, cała w szronie"),
            ("iced up and heats poorly", "stops in the frost, covered in ice"),
            ("nie działało odszranianie; wymieniono czujnik parownika, ustawiono cykl odszraniania",
             "zatkany odpływ kondensatu na mrozie; dołożono grzałkę odpływu"),
            ("defrost not working; evaporator sensor replaced, defrost cycle set", "condensate drain frozen; drain heater added")),
    Problem("hp_code", ("heat_pump",), "heat", ("zgłasza kod {code}", "wyłącza się z błędem {code}"),
            ("reports code {code}", "cuts out with error {code}"),
            ("kod {code} ({meaning}); odpowietrzono obieg, oczyszczono filtr siatkowy",),
            ("code {code} ({meaning_en}); circuit bled, strainer cleaned",), code=True),
    Problem("vent", ("ventilation",), "any", ("słabo nawiewa, w domu duszno", "głośno szumi w kanałach"),
            ("barely blows any air, the house feels stuffy", "roars in the ducts"),
            ("zapchane filtry G4/F7; wymieniono filtry, zrównoważono przepływy", "luźny tłumik na kanale; zamocowano"),
            ("G4/F7 filters clogged; filters replaced, airflow rebalanced", "loose silencer on the duct; refixed")),
    Problem("dead", ("split_ac", "multi_split", "heat_pump", "ventilation", "chiller"), "any",
            ("nie reaguje na pilota", "nie włącza się, wybija bezpiecznik"),
            ("does not respond to the remote", "will not switch on, trips the breaker"),
            ("uszkodzona płyta sterująca; wymieniono płytę", "zwarcie na przewodzie zasilającym; wymieniono przewód"),
            ("control board failed; board replaced", "short on the supply cable; cable replaced")),
]
VISITS = {  # service type -> (Polish request with {unit_gen}, English request with {unit})
    "maintenance": (("Proszę o przegląd {unit_gen}", "Coroczny serwis {unit_gen}", "Czyszczenie i dezynfekcja {unit_gen}"),
                    ("Please book the yearly service of the {unit}", "Annual maintenance of our {unit}",
                     "Cleaning and disinfection of the {unit}")),
    "installation": (("Wycena i montaż {unit_gen}", "Prosimy o montaż {unit_gen}", "Wymiana starego {unit_gen} na nowy"),
                     ("Quote and installation of a {unit}", "We would like a {unit} fitted",
                      "Replace the old {unit} with a new one")),
    "inspection": (("Kontrola szczelności {unit_gen} (F-gaz)", "Przegląd obowiązkowy {unit_gen} z protokołem"),
                   ("F-gas leak check of the {unit}", "Mandatory inspection of the {unit} with a report")),
}
VISIT_DONE = {
    "maintenance": (("wyczyszczono filtry i wymiennik, zmierzono ciśnienia, urządzenie sprawne",
                     "przegląd wykonany, wymieniono filtry, analiza spalin w normie"),
                    ("filters and coil cleaned, pressures measured, unit fine",
                     "service done, filters replaced, flue gas analysis within limits")),
    "installation": (("montaż wykonany, próba szczelności i próżnia, uruchomienie i instruktaż",
                      "zamontowano urządzenie, poprowadzono instalację {m} m, odbiór z klientem"),
                     ("installed, pressure test and vacuum, commissioned and explained to the client",
                      "unit fitted, {m} m of piping run, handed over to the client")),
    "inspection": (("kontrola szczelności bez zastrzeżeń, wpis do CRO", "protokół kontroli wystawiony, brak wycieków"),
                   ("leak check passed, entry in the F-gas register", "inspection report issued, no leaks")),
}
OPEN_PL = ["", "Dzień dobry, ", "Pilne: ", "Od wczoraj ", "Od rana ", "Od kilku dni ", "Po weekendzie ",
           "Witam, ", "Zgłaszam, że ", "Niestety "]
OPEN_EN = ["", "Hello, ", "Urgent: ", "Since yesterday the ", "Since this morning the ", "For a few days the ",
           "Hi, our ", "Please help, the "]
TAIL_PL = ["", " Proszę o pilny termin.", " Prosimy o wizytę jeszcze w tym tygodniu.", " Mamy małe dziecko w domu.",
           " Urządzenie ma {age} lat.", " W środku jest {temp}°C.", " Czy to gwarancja?", " Problem wraca co kilka dni.",
           " Jestem w domu po 15.", " Kod do domofonu podam telefonicznie."]
TAIL_EN = ["", " Please come as soon as you can.", " Any slot this week is fine.", " We have a baby at home.",
           " The unit is {age} years old.", " It is {temp}°C inside.", " Is it under warranty?",
           " It keeps coming back every few days.", " I am home after 3 pm."]
DONE_TAIL_PL = ["", " Klient poinformowany o przeglądzie za rok.", " Czas pracy {h} h.", " Zalecono wymianę filtrów co 3 miesiące.",
                " Test pracy {t} min bez uwag.", " Części na gwarancji producenta."]
DONE_TAIL_EN = ["", " Client told about the next yearly service.", " Time on site {h} h.",
                " Advised changing filters every 3 months.", " Ran {t} min without faults.", " Parts under the maker's warranty."]
# What the technician measured before leaving: numbers make each report its own.
MEASURE_PL = ["", " Nawiew po naprawie {air}°C.", " Ciśnienie instalacji {bar_pl} bar.", " Pobór prądu {amp} A.",
              " Temperatura zasilania {flow}°C."]
MEASURE_EN = ["", " Supply air after the repair {air}°C.", " System pressure {bar} bar.", " Current draw {amp} A.",
              " Flow temperature {flow}°C."]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _code(rng: random.Random, brand: str) -> tuple[str, str, str]:
    return rng.choice(CODES.get(brand) or CODES["Daikin"])


def job_text(rng: random.Random, *, service_type: str, kind: str, brand: str, english: bool,
             season: str) -> tuple[str, str]:
    """A client's description of one job and the technician's resolution, in one language."""
    units = UNITS.get(kind) or UNITS["split_ac"]
    nom, gen, unit_en = rng.choice(units)
    place_pl, place_en = rng.choice(PLACES)
    numbers = {"age": rng.randint(2, 15), "temp": rng.randint(27, 34) if season == "cool" else rng.randint(12, 17),
               "h": rng.randint(1, 4), "t": rng.choice([15, 20, 30, 45]),
               "kg": rng.choice(["0,3", "0,5", "0,6", "0,8", "1,1"]), "m": rng.randint(3, 15),
               "air": rng.randint(7, 14), "amp": rng.randint(3, 12), "flow": rng.randint(35, 55)}
    numbers["bar"] = f"{rng.randint(12, 19) / 10:.1f}"
    numbers["bar_pl"] = numbers["bar"].replace(".", ",")
    if service_type != "repair":
        asks_pl, asks_en = VISITS.get(service_type, VISITS["maintenance"])
        done_pl, done_en = VISIT_DONE.get(service_type, VISIT_DONE["maintenance"])
        if english:
            text = f"{rng.choice(asks_en).format(unit=unit_en)} {place_en}.{rng.choice(TAIL_EN)}"
            done = _cap(rng.choice(done_en)) + "." + rng.choice(MEASURE_EN) + rng.choice(DONE_TAIL_EN)
        else:
            text = f"{rng.choice(asks_pl).format(unit_gen=gen)} {place_pl}.{rng.choice(TAIL_PL)}"
            done = _cap(rng.choice(done_pl)) + "." + rng.choice(MEASURE_PL) + rng.choice(DONE_TAIL_PL)
        return text.format(**numbers), done.format(**numbers)
    fitting = [p for p in REPAIRS if kind in p.kinds and p.season in (season, "any")] or \
        [p for p in REPAIRS if kind in p.kinds] or REPAIRS[:1]
    problem = rng.choice(fitting)
    code, meaning, meaning_en = _code(rng, brand)
    values = {**numbers, "code": code, "meaning": meaning, "meaning_en": meaning_en}
    if english:
        opener = rng.choice(OPEN_EN)
        subject = f"{unit_en} {place_en}" if opener.endswith(("the ", "our ")) else f"the {unit_en} {place_en}"
        text = f"{opener}{subject} {rng.choice(problem.en)}.{rng.choice(TAIL_EN)}"
        done = _cap(rng.choice(problem.fix_en)) + "." + rng.choice(MEASURE_EN) + rng.choice(DONE_TAIL_EN)
    else:
        text = f"{rng.choice(OPEN_PL)}{nom} {place_pl} {rng.choice(problem.pl)}.{rng.choice(TAIL_PL)}"
        done = _cap(rng.choice(problem.fix_pl)) + "." + rng.choice(MEASURE_PL) + rng.choice(DONE_TAIL_PL)
    return _cap(text.format(**values)), done.format(**values)
