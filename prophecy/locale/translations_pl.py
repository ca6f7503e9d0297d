"""Polish translations of prophecy's catalogue. Run after `makemessages -l pl` (from prophecy/):
fills empty entries from this table and writes the .mo with polib."""

from __future__ import annotations

import sys
from pathlib import Path

import polib

PL = {
    "error": "błąd", "symptoms": "objawy", "equipment": "urządzenia", "error codes": "kody błędów",
    "80% interval (jobs)": "przedział 80% (zlecenia)", "MASE / seasonal-naive": "MASE / sezonowa naiwna",
    "Describe the problem": "Opisz problem", "District": "Dzielnica", "Service type": "Rodzaj usługi", "any": "dowolna",
    "From": "Od", "To": "Do", "Hybrid (meaning + keywords)": "Hybrydowo (znaczenie + słowa kluczowe)",
    "pending": "oczekuje", "synced": "zsynchronizowano", "failed": "błąd", "erased": "usunięto",
    "object type": "typ obiektu", "object id": "id obiektu", "content hash": "skrót treści", "state": "stan",
    "vector id": "id wektora", "backend": "magazyn", "embedding provider": "model osadzeń", "client id": "id klienta",
    "district": "dzielnica", "service type": "rodzaj usługi", "attempts": "próby", "synced at": "zsynchronizowano",
    "last error": "ostatni błąd", "updated at": "zmieniono", "sync state": "stan synchronizacji",
    "sync states": "stany synchronizacji", "language": "język", "text (privacy-filtered)": "tekst (po filtrze prywatności)",
    "created": "utworzono", "properties": "właściwości", "keywords": "słowa kluczowe",
    "service indicators": "wskaźniki usługi", "text features": "cechy tekstu", "vector (float32)": "wektor (float32)",
    "dimensions": "wymiary", "other properties": "inne właściwości", "store version": "wersja magazynu",
    "stored vector": "zapisany wektor", "stored vectors": "zapisane wektory", "version": "wersja",
    "generation": "generacja", "epoch": "epoka", "vector store version": "wersja magazynu wektorów",
    "week (Monday)": "tydzień (poniedziałek)", "forecast jobs": "prognoza zleceń",
    "interval low (jobs)": "dolna granica (zlecenia)", "interval high (jobs)": "górna granica (zlecenia)",
    "interval level (%)": "poziom przedziału (%)", "forecast job-hours": "prognoza roboczogodzin",
    "capacity (hours)": "pojemność (godziny)", "predicted demand": "prognozowane obciążenie", "confidence": "pewność",
    "backtest MASE": "MASE testu wstecznego", "seasonal-naive MASE": "MASE prognozy sezonowej naiwnej",
    "model": "model", "hotspot": "punkt zapalny", "alerted at": "alert wysłano", "updated": "zmieniono",
    "prediction": "prognoza", "predictions": "prognozy", "folds": "okna", "horizon (weeks)": "horyzont (tygodnie)",
    "MASE": "MASE", "run at": "uruchomiono", "backtest result": "wynik testu wstecznego",
    "backtest results": "wyniki testów wstecznych", "Home": "Początek", "Prophecy": "Prognozy",
    "Similar past messages and jobs": "Podobne wcześniejsze wiadomości i zlecenia",
    "Accuracy and sync": "Trafność i synchronizacja",
    "No backtest yet: run manage.py forecast.": "Brak testu wstecznego: uruchom manage.py forecast.",
    "Vector store": "Magazyn wektorów", "healthy": "działa", "unavailable": "niedostępny",
    "Sync states": "Stany synchronizacji", "type": "rodzaj", "demand": "obciążenie",
    "jobs (80%% interval)": "zlecenia (przedział 80%%)", "No predictions yet.": "Brak prognoz.",
    "Demand forecast": "Prognoza popytu", "Search": "Szukaj",
    "The vector store is down: these results are not from semantic search.":
        "Magazyn wektorów nie działa: te wyniki nie pochodzą z wyszukiwania semantycznego.",
    "Score": "Wynik", "Text": "Tekst", "Date": "Data", "Equipment": "Urządzenie",
    "How it was resolved": "Jak rozwiązano", "Object": "Obiekt", "Nothing similar found.": "Nie znaleziono podobnych.",
    "The vector store is unavailable: results come from the cache or from keyword search.":
        "Magazyn wektorów jest niedostępny: wyniki pochodzą z pamięci podręcznej lub z wyszukiwania słów kluczowych.",
    "Backtest (%(f)s rolling folds, model %(model)s): MASE %(m)s, seasonal-naive MASE %(n)s.":
        "Test wsteczny (%(f)s okien kroczących, model %(model)s): MASE %(m)s, MASE prognozy sezonowej naiwnej %(n)s.",
}
PLURALS = {
    "%(n)s result (source: %(source)s)": {
        "0": "%(n)s wynik (źródło: %(source)s)", "1": "%(n)s wyniki (źródło: %(source)s)",
        "2": "%(n)s wyników (źródło: %(source)s)", "3": "%(n)s wyniku (źródło: %(source)s)",
    },
}


def main() -> int:
    po_path = Path(__file__).resolve().parent / "pl" / "LC_MESSAGES" / "django.po"
    po = polib.pofile(str(po_path))
    missing = []
    for entry in po:
        if entry.msgid_plural and entry.msgid in PLURALS:
            entry.msgstr_plural = {int(k): v for k, v in PLURALS[entry.msgid].items()}
        elif not entry.msgstr and entry.msgid in PL:
            entry.msgstr = PL[entry.msgid]
        elif not entry.msgstr:
            missing.append(entry.msgid)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    po.save()
    po.save_as_mofile(str(po_path.with_suffix(".mo")))
    en = polib.pofile(str(po_path.parent.parent.parent / "en" / "LC_MESSAGES" / "django.po"))
    en.save_as_mofile(str(po_path.parent.parent.parent / "en" / "LC_MESSAGES" / "django.mo"))
    print(f"untranslated: {len(missing)}")
    for m in missing:
        print("  ", repr(m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
