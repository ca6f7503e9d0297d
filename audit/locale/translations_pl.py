"""Polish translations of audit's and the integration service's messages, applied to
audit/locale/pl/LC_MESSAGES/django.po (kept as data so a re-run of makemessages never loses them).
The integration service's strings live in this catalogue too (Django merges every app's catalogue).
Run: python audit/locale/translations_pl.py"""

from __future__ import annotations

from pathlib import Path

PL = {
    "dashboard": "panel", "open": "otwórz", "compare": "porównaj",
    "Audit and integration health": "Audyt i stan integracji",
    "Messages with no integration log": "Wiadomości bez wpisu w dzienniku integracji",
    "sync the message to the vector store, the map and alerts": "zsynchronizuj wiadomość z bazą wektorową, mapą i alarmami",
    "Logs that say synced, but the vector store has no object": "Wpisy „zsynchronizowano”, a baza wektorowa nie ma obiektu",
    "owe the sync again and run it": "zleć synchronizację ponownie i wykonaj ją",
    "Emergencies with no notification": "Awarie bez powiadomienia",
    "dispatch the emergency again": "roześlij alarm ponownie",
    "Open jobs with no location or district": "Otwarte zlecenia bez lokalizacji lub dzielnicy",
    "locate the job from its site": "ustal lokalizację zlecenia z adresu obiektu",
    "Logs of deleted objects": "Wpisy dotyczące usuniętych obiektów",
    "remove the orphaned logs": "usuń osierocone wpisy",
    "Stale cache entries": "Nieaktualne wpisy w pamięci podręcznej",
    "invalidate and recompute": "unieważnij i przelicz",
    "Technicians on shift with a stale position": "Technicy na zmianie z nieaktualną pozycją",
    "none: the technician's device must report (call them)": "brak: urządzenie technika musi wysłać pozycję (zadzwoń)",
    "All integrations": "Wszystkie integracje", "Database ↔ vector store": "Baza danych ↔ baza wektorowa",
    "Communications ↔ map": "Komunikacja ↔ mapa", "Portal ↔ systems": "Portal ↔ systemy",
    "Notification delivery": "Doręczanie powiadomień",
    "green": "zielony", "amber": "żółty", "red": "czerwony", "integration": "integracja", "state": "stan",
    "state since": "stan od", "last checked": "ostatnie sprawdzenie", "last figures": "ostatnie wskaźniki",
    "integration health": "stan integracji", "time": "czas", "overall state": "stan ogólny", "figures": "wskaźniki",
    "state changes": "zmiany stanu", "health snapshot": "pomiar stanu", "health snapshots": "pomiary stanu",
    "repair run": "przebieg naprawy", "finding": "niezgodność", "object type": "typ obiektu", "object id": "id obiektu",
    "action": "działanie", "succeeded": "udane", "result": "wynik", "actor": "wykonawca",
    "actor label": "etykieta wykonawcy", "repair record": "zapis naprawy", "repair records": "zapisy napraw",
    "label": "etykieta", "created by": "utworzył(a)", "audit checkpoint": "punkt kontrolny audytu",
    "audit checkpoints": "punkty kontrolne audytu",
    "Dashboard": "Panel", "Data consistency": "Spójność danych", "Audit report": "Raport audytu",
    "Checkpoints": "Punkty kontrolne", "Access trail": "Rejestr dostępu", "Integration log": "Dziennik integracji",
    "Switches (admin)": "Przełączniki (admin)",
    "Entries are kept %(retention_days)s days and cannot be edited or deleted.":
        "Wpisy są przechowywane %(retention_days)s dni i nie można ich zmieniać ani usuwać.",
    "person (login, e-mail, name)": "osoba (login, e-mail, nazwisko)",
    "object type, e.g. hvaccrm.client": "typ obiektu, np. hvaccrm.client", "client id": "id klienta",
    "any action": "dowolne działanie", "from": "od", "to": "do", "Search": "Szukaj", "Time": "Czas",
    "Person": "Osoba", "Action": "Działanie", "Object": "Obiekt", "Client": "Klient", "Purpose": "Cel",
    "Fields": "Pola", "No entries.": "Brak wpisów.",
    "label, e.g. before release 1.4": "etykieta, np. przed wydaniem 1.4", "Take a checkpoint": "Utwórz punkt kontrolny",
    "First": "Pierwszy", "Second": "Drugi", "Label": "Etykieta", "By": "Kto", "No checkpoints yet.": "Brak punktów kontrolnych.",
    "Compare": "Porównaj", "Comparison": "Porównanie", "Table": "Tabela", "Before": "Przed", "After": "Po",
    "Content changed": "Zmieniona treść", "Other changes": "Inne zmiany", "none": "brak",
    "Data consistency report": "Raport spójności danych", "Generated": "Wygenerowano", "checked": "sprawdzono",
    "not checked (subsystem missing)": "nie sprawdzono (brak podsystemu)",
    "Everything is in step.": "Wszystko jest spójne.", "Finding": "Niezgodność", "Count": "Liczba",
    "Objects": "Obiekty", "Repairable": "Do naprawy", "Repair": "Naprawa",
    "Dry run: what the repair will do": "Próba: co zrobi naprawa", "Repair now": "Napraw teraz",
    "Nothing to repair.": "Nie ma czego naprawiać.",
    "Dry run: show what a repair would change": "Próba: pokaż, co zmieniłaby naprawa",
    "Repairs made": "Wykonane naprawy",
    "Some figures are cached and may be out of date: a backend is not answering.":
        "Część wskaźników pochodzi z pamięci podręcznej i może być nieaktualna: jeden z systemów nie odpowiada.",
    "Integration health": "Stan integracji", "Window": "Okno", "computed": "obliczono",
    "refreshes by itself every 15 s": "odświeża się co 15 s", "Integration": "Integracja", "State": "Stan",
    "Success": "Skuteczność", "Threshold": "Próg", "Backlog": "Zaległości", "Why": "Dlaczego",
    "Last errors": "Ostatnie błędy", "Switches": "Przełączniki",
    "Switching a target off pauses its cross-system work; the standalone systems keep working and the owed work waits, then runs when it is switched back on.":
        "Wyłączenie celu wstrzymuje jego pracę międzysystemową; systemy działają dalej samodzielnie, a zaległa praca czeka i wykona się po ponownym włączeniu.",
    "Target": "Cel", "Reason": "Powód", "on": "włączony", "off": "wyłączony", "reason": "powód",
    "Switch off": "Wyłącz", "Switch on": "Włącz",
    "Open the consistency report (dry run, then repair)": "Otwórz raport spójności (najpierw próba, potem naprawa)",
    "Latest repairs": "Ostatnie naprawy", "OK": "OK", "No repairs yet.": "Brak napraw.",
    "Audit dashboard": "Panel audytu",
    "%(n)s repairs made, %(f)s failed.": "Wykonano napraw: %(n)s, nieudanych: %(f)s.",
    "%(t)s switched on: the waiting work is being sent.": "%(t)s włączony: zaległa praca jest wysyłana.",
    "%(t)s switched off: its work waits.": "%(t)s wyłączony: jego praca czeka.",
    "Checkpoint #%(id)s taken.": "Utworzono punkt kontrolny #%(id)s.", "Audit checkpoints": "Punkty kontrolne audytu",
    "Urgent request in your district": "Pilne zgłoszenie w Twojej dzielnicy",
    "A client in your district sent an urgent message; see the dispatch map.":
        "Klient z Twojej dzielnicy wysłał pilną wiadomość; zobacz mapę dyspozytorską.",
    "New booking": "Nowa rezerwacja", "A client booked a %(service)s visit.": "Klient zarezerwował wizytę: %(service)s.",
    "Low rating: %(n)s/5": "Niska ocena: %(n)s/5", "A client rated visit #%(job)s %(n)s/5.": "Klient ocenił wizytę #%(job)s na %(n)s/5.",
    "Expected demand peak: %(district)s": "Spodziewany szczyt zapotrzebowania: %(district)s",
    "Predicted demand %(demand)s (confidence %(conf)s) for the week of %(week)s.":
        "Przewidywane zapotrzebowanie %(demand)s (pewność %(conf)s) na tydzień od %(week)s.",
    "Integration %(name)s: %(state)s": "Integracja %(name)s: %(state)s",
    "%(name)s changed from %(old)s to %(new)s. %(detail)s": "%(name)s: zmiana z %(old)s na %(new)s. %(detail)s",
}


def fill_po(path: Path) -> int:
    import polib

    po = polib.pofile(str(path))
    done = 0
    for entry in po:
        if entry.msgid in PL:
            entry.msgstr = PL[entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            done += 1
    po.metadata["Language"] = "pl"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    po.metadata["Plural-Forms"] = ("nplurals=3; plural=(n==1 ? 0 : (n%10>=2 && n%10<=4) && (n%100<12 || n%100>14) "
                                   "? 1 : 2);")
    po.save()
    return done


if __name__ == "__main__":
    po_path = Path(__file__).resolve().parent / "pl" / "LC_MESSAGES" / "django.po"
    print(f"{fill_po(po_path)} translations written to {po_path}")
