"""Polish translations of this app's messages, applied to django.po by `fill_po` (kept as data so a
re-run of makemessages never loses them). Run: python communications/locale/translations_pl.py"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

PL = {
    "client portal": "portal klienta", "e-mail": "e-mail", "phone": "telefon", "SMS": "SMS", "office": "biuro",
    "client": "klient", "service job": "zlecenie", "channel of origin": "kanał zgłoszenia", "subject": "temat",
    "created at": "utworzono", "last message": "ostatnia wiadomość", "conversation": "rozmowa",
    "conversations": "rozmowy", "technician": "technik", "system": "system", "author": "autor",
    "author role": "rola autora", "text": "treść", "language": "język", "latitude": "szerokość geograficzna",
    "longitude": "długość geograficzna", "district": "dzielnica", "urgency": "pilność",
    "service types": "rodzaje usług", "classification": "klasyfikacja", "message": "wiadomość",
    "messages": "wiadomości", "user": "użytkownik", "read by the office": "przeczytana przez biuro",
    "read at": "przeczytano", "message read": "odczyt wiadomości", "message reads": "odczyty wiadomości",
    "low": "niski", "normal": "normalny", "high": "wysoki", "emergency": "awaria krytyczna",
    "recipient": "odbiorca", "kind": "rodzaj", "title": "tytuł", "payload": "dane", "priority": "priorytet",
    "related object type": "typ powiązanego obiektu", "related object id": "id powiązanego obiektu",
    "marketing": "marketing", "deduplication key": "klucz deduplikacji", "acknowledged at": "potwierdzono",
    "notification": "powiadomienie", "notifications": "powiadomienia", "in-app": "w aplikacji",
    "Telegram": "Telegram", "pending": "oczekuje", "sent": "wysłane", "delivered": "doręczone",
    "read": "przeczytane", "failed (will be retried)": "nieudane (ponowimy)", "dead (gave up)": "porzucone",
    "skipped": "pominięte", "channel": "kanał", "state": "stan", "address": "adres", "attempts": "próby",
    "last error": "ostatni błąd", "updated at": "zmieniono", "sent at": "wysłano", "delivered at": "doręczono",
    "delivery": "doręczenie", "deliveries": "doręczenia", "channels": "kanały",
    "Empty: the default channels.": "Puste: kanały domyślne.", "quiet hours from": "cisza nocna od",
    "quiet hours until": "cisza nocna do", "phone for SMS": "telefon do SMS", "Telegram chat id": "id czatu Telegram",
    "notification preference": "ustawienia powiadomień", "notification preferences": "ustawienia powiadomień",
    "Give both ends of the quiet hours, or neither.": "Podaj oba końce ciszy nocnej albo żaden.",
    "Unknown channels: %s": "Nieznane kanały: %s", "waiting for acknowledgement": "czeka na potwierdzenie",
    "escalated": "eskalowane", "acknowledged": "potwierdzone", "escalate at": "eskalacja o",
    "escalated at": "eskalowano", "acknowledged by": "potwierdził(a)", "emergency alert": "alarm awaryjny",
    "emergency alerts": "alarmy awaryjne", "sent to technician": "wysłano do technika",
    "technician skipped": "pominięto technika", "no technician: dispatcher told": "brak technika: powiadomiono dyspozytora",
    "managers told": "powiadomiono kierowników", "alert": "alarm", "step": "krok", "rank": "kolejność",
    "distance (km)": "odległość (km)", "reason": "powód", "time": "czas", "alert decision": "decyzja alarmu",
    "alert decisions": "decyzje alarmu", "%(what)s not found.": "Nie znaleziono: %(what)s.", "Client": "Klient",
    "This visit is not the client's.": "To nie jest wizyta tego klienta.",
    "Choose one of the client's visits.": "Wybierz jedną z wizyt klienta.", "Unknown channel.": "Nieznany kanał.",
    "The message is empty.": "Wiadomość jest pusta.", "Write a message.": "Napisz wiadomość.",
    "The message is too long.": "Wiadomość jest za długa.", "At most 5000 characters.": "Najwyżej 5000 znaków.",
    "Give both coordinates.": "Podaj obie współrzędne.", "Conversation": "Rozmowa", "Message": "Wiadomość",
    "Unknown priority.": "Nieznany priorytet.", "Notification": "Powiadomienie",
    "Invalid preferences.": "Nieprawidłowe ustawienia.", "Delivery": "Doręczenie",
    "Only failed or dead deliveries can be retried.": "Ponowić można tylko nieudane lub porzucone doręczenia.",
    "In-app deliveries are not retried.": "Doręczeń w aplikacji się nie ponawia.",
    "Emergency in %(district)s": "Awaria krytyczna: %(district)s", "an unknown district": "nieznana dzielnica",
    "Unacknowledged emergency in %(district)s": "Niepotwierdzona awaria: %(district)s",
    "Your visit is confirmed": "Wizyta potwierdzona",
    "We will come on %(when)s. Technician: %(tech)s.": "Przyjedziemy %(when)s. Technik: %(tech)s.",
    "The technician %(tech)s is on the way. Expected arrival: %(eta)s.":
        "Technik %(tech)s jest w drodze. Przewidywany przyjazd: %(eta)s.",
    "The technician %(tech)s is on the way.": "Technik %(tech)s jest w drodze.",
    "The technician is on the way": "Technik jest w drodze", "Your visit is completed": "Wizyta zakończona",
    "Thank you. Please tell us how it went: %(link)s": "Dziękujemy. Prosimy o ocenę wizyty: %(link)s",
    "Your visit was cancelled": "Wizyta odwołana",
    "Please contact us to choose a new date.": "Prosimy o kontakt w celu wyboru nowego terminu.",
    "Reminder: your visit tomorrow": "Przypomnienie: jutro wizyta", "We will come on %(when)s.": "Przyjedziemy %(when)s.",
    # admin and inbox page
    "Office inbox": "Skrzynka biura", "unread": "nieprzeczytane", "Reply": "Odpowiedz", "Send": "Wyślij",
    "No conversations yet.": "Brak rozmów.", "Retry the selected deliveries": "Ponów wybrane doręczenia",
    "%(n)d delivery(ies) queued again, %(m)d refused.": "Ponowiono %(n)d doręczeń, odmówiono %(m)d.",
    "outbox state": "stan w outboksie", "messages in total": "wszystkich wiadomości", "Open": "Otwórz",
    "Back to the inbox": "Wróć do skrzynki", "Write a reply…": "Napisz odpowiedź…", "Live": "Na żywo",
    "Conversations": "Rozmowy", "urgent": "pilne", "Mark read": "Oznacz jako przeczytane",
    "Acknowledged by": "Potwierdził(a)", "Emergency alerts waiting": "Alarmy czekające na potwierdzenie",
    "Escalate the selected alerts now": "Eskaluj wybrane alarmy teraz",
}

PL_LONG = {
    "no technician on shift in the district: %(n)s dispatcher notification(s)":
        "brak technika na zmianie w dzielnicy: powiadomienia dyspozytorów: %(n)s",
}


def fill_po(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    filled = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal filled
        msgid = m.group(1).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        if msgid in PL:
            filled += 1
            value = PL[msgid].replace('"', '\\"')
            return f'msgid "{m.group(1)}"\nmsgstr "{value}"'
        return m.group(0)

    text = re.sub(r'^msgid "(.+)"\nmsgstr ""$', repl, text, flags=re.M)
    for msgid, value in PL_LONG.items():  # entries that makemessages wraps over several lines
        wrapped = f'msgid ""\n"{msgid}"\nmsgstr ""\n'
        if wrapped in text:
            text = text.replace(wrapped, f'msgid ""\n"{msgid}"\nmsgstr "{value}"\n')
            filled += 1
    text = text.replace("#, fuzzy\n", "")
    path.write_text(text, encoding="utf-8")
    return filled


if __name__ == "__main__":
    po = Path(__file__).parent / "pl" / "LC_MESSAGES" / "django.po"
    print("filled", fill_po(po))
    # msgfmt from GNU gettext, the same tool compilemessages runs; the paths are our own files.
    subprocess.run(["msgfmt", "-o", str(po.with_suffix(".mo")), str(po)], check=True)  # noqa: S603,S607
