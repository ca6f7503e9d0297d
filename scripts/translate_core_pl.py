"""Polish translations of the core catalogue (locale/pl). Re-run after `makemessages` adds strings:
existing entries are kept; only empty ones are filled from this table."""

from __future__ import annotations

import sys
from pathlib import Path

import polib

PL = {
    "sites": "obiekty", "t CO2e": "t CO2e", "F-gas register": "rejestr F-gazów (CRO)", "next leak check": "następna kontrola szczelności",
    "Retry the selected entries": "Ponów wybrane wpisy", "%(n)s entries queued again.": "Ponownie zakolejkowano wpisów: %(n)s.",
    "CRM core": "Rdzeń CRM", "Urgent request in your district": "Pilne zgłoszenie w Twojej dzielnicy",
    "A client in your district sent an urgent message; see the dispatch map.": "Klient z Twojej dzielnicy wysłał pilną wiadomość; zobacz mapę dyspozytorską.",
    "New booking": "Nowa rezerwacja", "A client booked a %(service)s visit.": "Klient zarezerwował wizytę: %(service)s.",
    "Low rating: %(n)s/5": "Niska ocena: %(n)s/5", "A client rated visit #%(job)s %(n)s/5.": "Klient ocenił wizytę nr %(job)s na %(n)s/5.",
    "Expected demand peak: %(district)s": "Spodziewany szczyt popytu: %(district)s",
    "Predicted demand %(demand)s (confidence %(conf)s) for the week of %(week)s.": "Prognozowane obciążenie %(demand)s (pewność %(conf)s) w tygodniu od %(week)s.",
    "Integration %(name)s: %(state)s": "Integracja %(name)s: %(state)s",
    "%(name)s changed from %(old)s to %(new)s. %(detail)s": "%(name)s: zmiana z %(old)s na %(new)s. %(detail)s",
    "viewed": "wyświetlono", "changed": "zmieniono", "exported": "wyeksportowano", "erased": "usunięto", "created": "utworzono",
    "actor": "kto", "actor label": "opis osoby", "action": "czynność", "object type": "typ obiektu", "object id": "id obiektu",
    "client id": "id klienta", "purpose": "cel", "fields": "pola", "IP address": "adres IP", "time": "czas",
    "access record": "wpis dziennika dostępu", "access trail": "dziennik dostępu",
    "Access records cannot be changed.": "Wpisów dziennika dostępu nie można zmieniać.",
    "Access records cannot be deleted.": "Wpisów dziennika dostępu nie można usuwać.",
    "Polish": "polski", "English": "angielski", "residential": "indywidualny", "business": "firma", "kind": "rodzaj", "name": "nazwa",
    "NIP": "NIP", "e-mail": "e-mail", "phone": "telefon", "billing address": "adres do faktur", "preferred language": "preferowany język",
    "portal users": "użytkownicy portalu", "office notes": "notatki biura", "synthetic (test data)": "syntetyczne (dane testowe)",
    "created at": "utworzono", "updated at": "zaktualizowano", "anonymised at": "zanonimizowano", "client": "klient", "clients": "klienci",
    "A business client needs a NIP.": "Klient firmowy musi mieć NIP.",
    "This is not a valid Polish NIP (10 digits with a correct checksum).": "To nie jest poprawny NIP (10 cyfr z prawidłową sumą kontrolną).",
    "label": "etykieta", "street and number": "ulica i numer", "postal code": "kod pocztowy", "city": "miasto", "latitude": "szerokość geogr.",
    "longitude": "długość geogr.", "district": "dzielnica", "site": "obiekt", "outside Warsaw": "poza Warszawą", "none": "brak",
    "split air conditioner": "klimatyzator split", "multi-split": "multi-split", "heat pump": "pompa ciepła", "gas boiler": "kocioł gazowy",
    "ventilation / heat recovery": "wentylacja / rekuperacja", "chiller": "agregat wody lodowej (chiller)", "brand": "marka", "model": "model",
    "serial number": "numer seryjny", "refrigerant": "czynnik chłodniczy", "refrigerant charge (kg)": "ilość czynnika (kg)",
    "leak detection system installed": "zainstalowany system wykrywania wycieków", "installed on": "data instalacji",
    "warranty until": "gwarancja do", "last maintenance": "ostatni przegląd", "last leak check": "ostatnia kontrola szczelności",
    "equipment": "urządzenia", "A gas boiler has no refrigerant.": "Kocioł gazowy nie ma czynnika chłodniczego.",
    "service notifications": "powiadomienia serwisowe", "marketing by e-mail": "marketing e-mailowy", "marketing by SMS": "marketing SMS",
    "satisfaction surveys": "ankiety satysfakcji", "client portal": "portal klienta", "office": "biuro", "granted": "udzielona",
    "channel": "kanał", "text version": "wersja treści", "recorded by": "zarejestrował(a)", "consent": "zgoda", "consents": "zgody",
    "Consent entries cannot be changed; record a new entry.": "Wpisów zgód nie można zmieniać; zarejestruj nowy wpis.",
    "Consent entries cannot be deleted.": "Wpisów zgód nie można usuwać.",
    "high": "wysoki", "medium": "średni", "low": "niski", "slug": "identyfikator", "affluence tier": "poziom zamożności", "weight": "waga",
    "neighbours": "sąsiednie dzielnice", "geometry (GeoJSON)": "geometria (GeoJSON)", "geometry source": "źródło granic", "districts": "dzielnice",
    "installation": "montaż", "maintenance": "przegląd", "repair": "naprawa", "inspection": "inspekcja", "normal": "zwykłe",
    "emergency": "awaria", "new": "nowe", "scheduled": "zaplanowane", "en route": "w drodze", "on site": "na miejscu",
    "completed": "zakończone", "cancelled": "anulowane", "message": "wiadomość", "system (planned maintenance)": "system (planowy przegląd)",
    "service type": "rodzaj usługi", "urgency": "pilność", "priority": "priorytet", "description": "opis", "status": "status",
    "source": "źródło", "requested from": "preferowany termin od", "requested until": "preferowany termin do",
    "scheduled from": "zaplanowano od", "scheduled until": "zaplanowano do", "assigned technician": "przydzielony serwisant",
    "estimated duration (min)": "szacowany czas (min)", "ETA": "przewidywany przyjazd", "completion report": "protokół wykonania",
    "status changed at": "zmiana statusu", "completed at": "zakończono", "service job": "zlecenie serwisowe", "service jobs": "zlecenia serwisowe",
    "job": "zlecenie", "rating": "ocena", "comment": "komentarz", "job feedback": "opinie o wizytach", "map": "mapa",
    "prophecy (vector store)": "prognozy (baza wektorowa)", "notifications": "powiadomienia", "portal": "portal", "audit": "audyt",
    "pending": "oczekuje", "succeeded": "wykonano", "failed (will be retried)": "błąd (zostanie ponowione)", "dead (gave up)": "porzucone",
    "target": "cel", "payload": "dane", "audit level": "poziom audytu", "details": "szczegóły", "state": "stan", "attempts": "próby",
    "next attempt": "następna próba", "duration (ms)": "czas (ms)", "latency from commit (ms)": "opóźnienie od zapisu (ms)",
    "last error": "ostatni błąd", "finished at": "zakończono", "integration log entry": "wpis dziennika integracji",
    "integration log": "dziennik integracji", "enabled": "włączona", "reason": "powód", "changed by": "zmienił(a)", "changed at": "zmieniono",
    "integration switch": "przełącznik integracji", "integration switches": "przełączniki integracji", "split AC": "klimatyzacja split",
    "ventilation": "wentylacja", "F-gas certificate": "certyfikat F-gazowy", "electrical (SEP)": "uprawnienia elektryczne (SEP)",
    "user": "użytkownik", "skills": "umiejętności", "home district": "dzielnica macierzysta", "shift start": "początek zmiany",
    "shift end": "koniec zmiany", "maximum jobs per day": "maks. zleceń dziennie", "start point latitude": "szerokość punktu startu",
    "start point longitude": "długość punktu startu", "active": "aktywny", "on shift": "na zmianie", "private mode": "tryb prywatny",
    "last latitude": "ostatnia szerokość", "last longitude": "ostatnia długość", "last accuracy (m)": "ostatnia dokładność (m)",
    "last position time": "czas ostatniej pozycji", "technician": "serwisant", "technicians": "serwisanci",
    "This unit is not at the chosen site.": "To urządzenie nie znajduje się w wybranym obiekcie.",
    "Choose a unit at this site.": "Wybierz urządzenie z tego obiektu.", "The window must end after it starts.": "Okno musi kończyć się po rozpoczęciu.",
    "A job cannot move from %(a)s to %(b)s.": "Zlecenie nie może przejść ze stanu %(a)s do %(b)s.",
    "Not allowed from %(a)s.": "Niedozwolone ze stanu %(a)s.", "Assign a technician to schedule the job.": "Przydziel serwisanta, aby zaplanować zlecenie.",
    "Required.": "Wymagane.", "Only new or scheduled jobs can be assigned.": "Przydzielać można tylko nowe lub zaplanowane zlecenia.",
    "Only new or scheduled jobs can be moved.": "Przesuwać można tylko nowe lub zaplanowane zlecenia.", "No such job.": "Nie ma takiego zlecenia.",
    "Coordinates out of range.": "Współrzędne poza zakresem.", "Out of range.": "Poza zakresem.", "Unknown district.": "Nieznana dzielnica.",
    "Feedback can be given on a finished visit only.": "Opinię można wystawić tylko po zakończonej wizycie.",
    "Choose a rating from 1 to 5.": "Wybierz ocenę od 1 do 5.", "Feedback for this visit was already given.": "Opinia o tej wizycie została już wystawiona.",
    "HVAC CRM: office": "HVAC CRM: biuro", "HVAC CRM": "HVAC CRM", "Office and audit dashboard": "Biuro i panel audytu",
    "Enter a phone number such as +48 601 234 567.": "Podaj numer telefonu, np. +48 601 234 567.", "Skip to content": "Przejdź do treści",
    "HVAC Service Warsaw": "Serwis HVAC Warszawa", "Main": "Główne",
}


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    po = polib.pofile(str(root / "locale/pl/LC_MESSAGES/django.po"))
    missing = []
    for entry in po:
        if entry.msgstr:
            continue
        if entry.msgid in PL:
            entry.msgstr = PL[entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        else:
            missing.append(entry.msgid)
    po.save()
    print(f"untranslated: {len(missing)}")
    for m in missing:
        print("  ", m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
