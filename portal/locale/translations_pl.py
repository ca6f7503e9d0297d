"""Polish translations of the portal's messages, applied to django.po with polib (kept as data so a
re-run of makemessages never loses them). Run: .venv/bin/python portal/locale/translations_pl.py"""

from __future__ import annotations

from pathlib import Path

PL = {
    "Invite to the client portal (e-mail a sign-in link)": "Zaproś do portalu klienta (wyślij link logowania)",
    "Invitations sent: %(n)d.": "Wysłane zaproszenia: %(n)d.",
    "Execute: anonymise the client everywhere": "Wykonaj: zanonimizuj klienta wszędzie",
    "Erasures executed: %(n)d.": "Wykonane usunięcia danych: %(n)d.",
    "Client portal": "Portal klienta",
    "The e-mail address or password is wrong.": "Błędny adres e-mail lub hasło.",
    "This account is inactive.": "To konto jest nieaktywne.",
    "E-mail": "E-mail",
    "Site": "Adres serwisowy",
    "Service type": "Rodzaj usługi",
    "Unit (optional)": "Urządzenie (opcjonalnie)",
    "What is the problem?": "Na czym polega problem?",
    "Preferred windows (up to three)": "Preferowane terminy (do trzech)",
    "not sure / several": "nie wiem / kilka urządzeń",
    "New window": "Nowy termin",
    "Your rating": "Twoja ocena",
    "Comment (optional)": "Komentarz (opcjonalnie)",
    "yes": "tak",
    "no": "nie",
    "I understand that my account will be closed and my personal data erased.":
        "Rozumiem, że moje konto zostanie zamknięte, a moje dane osobowe usunięte.",
    "Anything you want to tell us (optional)": "Czy chcesz nam coś przekazać? (opcjonalnie)",
    "sign-in link": "link logowania",
    "invitation": "zaproszenie",
    "user": "użytkownik",
    "token hash": "skrót tokenu",
    "purpose": "cel",
    "created at": "utworzono",
    "expires at": "wygasa",
    "used at": "użyto",
    "created by": "utworzył",
    "sign-in links": "linki logowania",
    "session key": "klucz sesji",
    "signed in at": "zalogowano",
    "signed-in session": "sesja zalogowania",
    "signed-in sessions": "sesje zalogowania",
    "job": "zlecenie",
    "booked by": "zarezerwował",
    "preferred windows": "preferowane terminy",
    "handled as an emergency": "obsłużone jako awaria",
    "gas safety instruction shown": "pokazano instrukcję bezpieczeństwa (gaz)",
    "portal booking": "rezerwacja w portalu",
    "portal bookings": "rezerwacje w portalu",
    "requested": "zgłoszono",
    "executed": "wykonano",
    "rejected": "odrzucono",
    "client id": "id klienta",
    "state": "stan",
    "client's note": "uwaga klienta",
    "requested at": "zgłoszono",
    "executed at": "wykonano",
    "executed by": "wykonał",
    "what was done": "co zrobiono",
    "erasure request": "żądanie usunięcia danych",
    "erasure requests": "żądania usunięcia danych",
    "too soon": "za wcześnie",
    "full": "brak miejsc",
    "Visit records: date, service type, status, district, unit, technician; no description, address or contact data":
        "Rejestr wizyt: data, rodzaj usługi, status, dzielnica, urządzenie, technik; bez opisu, adresu i danych kontaktowych",
    "Accounting: invoices and their supporting records (Accounting Act, art. 74)":
        "Rachunkowość: faktury i dokumenty źródłowe (ustawa o rachunkowości, art. 74)",
    "5 years from the end of the year of the visit": "5 lat od końca roku, w którym była wizyta",
    "Equipment with refrigerant and its leak checks and interventions (F-gas register, CRO)":
        "Urządzenia z czynnikiem chłodniczym, ich kontrole szczelności i interwencje (rejestr F-gazów, CRO)",
    "F-gas Regulation (EU) 2024/573 and the Polish F-gas Act: records of equipment and interventions":
        "Rozporządzenie (UE) 2024/573 w sprawie F-gazów i ustawa o F-gazach: ewidencja urządzeń i interwencji",
    "5 years from each intervention": "5 lat od każdej interwencji",
    "Consent ledger entries (purpose, granted or withdrawn, time), under a pseudonym":
        "Wpisy rejestru zgód (cel, udzielenie lub wycofanie, czas), pod pseudonimem",
    "Proof of consent (GDPR art. 7(1)) and defence of claims": "Wykazanie zgody (RODO art. 7 ust. 1) i obrona roszczeń",
    "6 years (limitation period of claims)": "6 lat (okres przedawnienia roszczeń)",
    "Access trail: who read or changed the data and when, under a pseudonym":
        "Rejestr dostępu: kto i kiedy odczytał lub zmienił dane, pod pseudonimem",
    "Accountability of the controller (GDPR art. 5(2))": "Rozliczalność administratora (RODO art. 5 ust. 2)",
    "As long as the access trail retention (audit)": "Tak długo, jak okres przechowywania rejestru dostępu (audyt)",
    "The erasure request itself: client number, dates, who executed it":
        "Samo żądanie usunięcia: numer klienta, daty, kto je wykonał",
    "Proof that the request was carried out (GDPR art. 5(2) and 17)": "Dowód wykonania żądania (RODO art. 5 ust. 2 i art. 17)",
    "6 years": "6 lat",
    "Not found.": "Nie znaleziono.",
    "Your access to the client portal": "Twój dostęp do portalu klienta",
    "Your sign-in link": "Twój link logowania",
    "The client has no e-mail address.": "Klient nie ma adresu e-mail.",
    "Required.": "Wymagane.",
    "This client was erased.": "Dane tego klienta zostały usunięte.",
    "This address belongs to a staff account.": "Ten adres należy do konta pracownika.",
    "There is no such window.": "Nie ma takiego terminu.",
    "Choose a window from the list.": "Wybierz termin z listy.",
    "This window is in the past.": "Ten termin już minął.",
    "This window is not open for booking.": "Ten termin nie jest dostępny do rezerwacji.",
    "This window is not open (%(reason)s).": "Ten termin jest niedostępny (%(reason)s).",
    "This window is outside the booking period.": "Ten termin jest poza okresem rezerwacji.",
    "Choose one of your sites.": "Wybierz jeden ze swoich adresów.",
    "Choose a service type.": "Wybierz rodzaj usługi.",
    "Choose a unit at this site.": "Wybierz urządzenie pod tym adresem.",
    "Choose at most three windows.": "Wybierz najwyżej trzy terminy.",
    "Choose at least one window.": "Wybierz co najmniej jeden termin.",
    "Your booking no. %(id)s": "Twoja rezerwacja nr %(id)s",
    "This visit can no longer be cancelled in the portal; please call the office.":
        "Tej wizyty nie można już odwołać w portalu; prosimy o telefon do biura.",
    "This visit can no longer be moved in the portal; please call the office.":
        "Tej wizyty nie można już przełożyć w portalu; prosimy o telefon do biura.",
    "Choose a rating from 1 to 5.": "Wybierz ocenę od 1 do 5.",
    "Please correct the marked fields.": "Popraw zaznaczone pola.",
    "Unknown purpose.": "Nieznany cel.",
    "This request was already handled.": "To żądanie zostało już obsłużone.",
    "Do you smell gas? Safety first": "Czujesz gaz? Najpierw bezpieczeństwo",
    "Do not switch lights or appliances on or off, do not use open flame.":
        "Nie włączaj ani nie wyłączaj światła i urządzeń, nie używaj otwartego ognia.",
    "Open windows if you can do it at once, and leave the building.": "Otwórz okna, jeśli możesz zrobić to od razu, i wyjdź z budynku.",
    "From outside, call the emergency number 112 or the gas emergency line 992.":
        "Z zewnątrz zadzwoń pod numer alarmowy 112 lub do pogotowia gazowego 992.",
    "Then let us know here: we treat it as an emergency.": "Potem daj nam znać tutaj: traktujemy to jako awarię.",
    "What we keep after an erasure, and why": "Co przechowujemy po usunięciu danych i dlaczego",
    "After an erasure your name, contact data, addresses, descriptions, comments and messages are removed. The law obliges us to keep the records below, under a pseudonym (no name, contact data or address):":
        "Po usunięciu danych usuwamy Twoje imię i nazwisko, dane kontaktowe, adresy, opisy, komentarze i wiadomości. Przepisy nakazują nam przechowywać poniższe zapisy, pod pseudonimem (bez nazwiska, danych kontaktowych i adresu):",
    "Record": "Zapis",
    "Legal reason": "Podstawa prawna",
    "Kept for": "Okres przechowywania",
    "Yours now": "Twoje obecnie",
    "emergency": "awaria",
    "as soon as possible": "jak najszybciej",
    "Account": "Konto",
    "Signed in as": "Zalogowano jako",
    "Change password": "Zmień hasło",
    "Set a password": "Ustaw hasło",
    "Save password": "Zapisz hasło",
    "Sessions": "Sesje",
    "Lost a phone or signed in on someone else's computer? Sign out everywhere at once.":
        "Zgubiony telefon albo logowanie na cudzym komputerze? Wyloguj się wszędzie naraz.",
    "Sign out on all devices": "Wyloguj na wszystkich urządzeniach",
    "Overview": "Przegląd",
    "Visits": "Wizyty",
    "Book a visit": "Umów wizytę",
    "Messages": "Wiadomości",
    "Notifications": "Powiadomienia",
    "My data": "Moje dane",
    "Sign out": "Wyloguj",
    "Show windows for this site": "Pokaż terminy dla tego adresu",
    "This sounds like an emergency: we will handle it at once, without waiting for a window.":
        "To brzmi jak awaria: zajmiemy się tym od razu, bez czekania na termin.",
    "Only windows that are still open are shown.": "Pokazujemy tylko terminy, które są jeszcze wolne.",
    "No open windows in the coming weeks. Please send us a message.": "Brak wolnych terminów w najbliższych tygodniach. Napisz do nas.",
    "Book": "Zarezerwuj",
    "Booking received": "Rezerwacja przyjęta",
    "We treat this as an emergency: the technicians on duty have been alerted and the office will call you.":
        "Traktujemy to jako awarię: dyżurni technicy zostali zaalarmowani, a biuro do Ciebie zadzwoni.",
    "Number": "Numer",
    "Service": "Usługa",
    "Preferred windows": "Preferowane terminy",
    "We have sent a confirmation by e-mail. The office will confirm the exact time.":
        "Wysłaliśmy potwierdzenie e-mailem. Biuro potwierdzi dokładną godzinę.",
    "See the visit": "Zobacz wizytę",
    "Back to the overview": "Wróć do przeglądu",
    "Consents": "Zgody",
    "Choose a purpose and yes or no.": "Wybierz cel oraz tak lub nie.",
    "Purpose": "Cel",
    "Now": "Obecnie",
    "Change": "Zmień",
    "not given": "nieudzielona",
    "given": "udzielona",
    "withdrawn": "wycofana",
    "Withdraw": "Wycofaj",
    "Give consent": "Udziel zgody",
    "Text version %(version)s. Withdrawing a consent does not affect what was done before.":
        "Wersja treści %(version)s. Wycofanie zgody nie wpływa na to, co zrobiono wcześniej.",
    "History": "Historia",
    "Time": "Czas",
    "Choice": "Wybór",
    "Channel": "Kanał",
    "No entries yet.": "Brak wpisów.",
    "Contact data": "Dane kontaktowe",
    "You have the right to correct your data (GDPR art. 16). Changes are saved at once and recorded.":
        "Masz prawo sprostować swoje dane (RODO art. 16). Zmiany zapisujemy od razu i odnotowujemy.",
    "Save": "Zapisz",
    "Hello, %(name)s": "Dzień dobry, %(name)s",
    "Your visit today": "Twoja dzisiejsza wizyta",
    "Status": "Status",
    "Technician": "Technik",
    "not assigned yet": "jeszcze nie przydzielono",
    "Expected arrival": "Przewidywany przyjazd",
    "Upcoming visits": "Nadchodzące wizyty",
    "No visits planned.": "Brak zaplanowanych wizyt.",
    "All visits": "Wszystkie wizyty",
    "Your sites and equipment": "Twoje adresy i urządzenia",
    "Equipment": "Urządzenia",
    "Unit": "Urządzenie",
    "Last service": "Ostatni serwis",
    "Next maintenance": "Następny przegląd",
    "Next leak check": "Następna kontrola szczelności",
    "not required": "niewymagana",
    "No equipment recorded.": "Brak zapisanych urządzeń.",
    "No sites yet.": "Brak adresów.",
    "Past visits": "Minione wizyty",
    "No past visits.": "Brak minionych wizyt.",
    "All past visits": "Wszystkie minione wizyty",
    "Hello,": "Dzień dobry,",
    "we have received your booking no. %(id)s.": "otrzymaliśmy Twoją rezerwację nr %(id)s.",
    "We treat it as an emergency: the technicians on duty have been alerted.":
        "Traktujemy ją jako awarię: dyżurni technicy zostali zaalarmowani.",
    "The office will confirm the exact time.": "Biuro potwierdzi dokładną godzinę.",
    "If you smell gas: leave the building, do not switch anything on or off, and call 112 or the gas emergency line 992.":
        "Jeśli czujesz gaz: wyjdź z budynku, niczego nie włączaj ani nie wyłączaj i zadzwoń pod 112 lub do pogotowia gazowego 992.",
    "See or change the visit": "Zobacz lub zmień wizytę",
    "The HVAC service office has opened your access to the client portal: your visits, equipment, bookings and messages in one place.":
        "Biuro serwisu HVAC otworzyło Ci dostęp do portalu klienta: wizyty, urządzenia, rezerwacje i wiadomości w jednym miejscu.",
    "Sign in with this link (it works once; valid for %(minutes)s minutes):":
        "Zaloguj się tym linkiem (działa raz; ważny przez %(minutes)s minut):",
    "You can set a password afterwards, or ask for a new link on the sign-in page at any time.":
        "Potem możesz ustawić hasło albo w każdej chwili poprosić o nowy link na stronie logowania.",
    "If you did not expect this message, ignore it.": "Jeśli nie spodziewasz się tej wiadomości, zignoruj ją.",
    "Here is your sign-in link to the client portal. It works once and is valid for %(minutes)s minutes:":
        "Oto Twój link logowania do portalu klienta. Działa raz i jest ważny przez %(minutes)s minut:",
    "If you did not ask for it, ignore this message: nobody can sign in without the link.":
        "Jeśli o niego nie prosiłeś, zignoruj tę wiadomość: bez linku nikt się nie zaloguje.",
    "Someone asked to reset the password of your client portal account. To set a new password, open:":
        "Ktoś poprosił o zresetowanie hasła do Twojego konta w portalu klienta. Aby ustawić nowe hasło, otwórz:",
    "If it was not you, ignore this message; your password stays as it is.":
        "Jeśli to nie Ty, zignoruj tę wiadomość; hasło pozostanie bez zmian.",
    "Password reset for the client portal": "Reset hasła do portalu klienta",
    "Kind": "Rodzaj",
    "Refrigerant": "Czynnik chłodniczy",
    "Installed": "Zainstalowano",
    "Warranty until": "Gwarancja do",
    "every %(m)s months": "co %(m)s mies.",
    "Service history": "Historia serwisu",
    "No finished visits on this unit yet.": "Brak zakończonych wizyt przy tym urządzeniu.",
    "Book a visit for this unit": "Umów wizytę dla tego urządzenia",
    "Erase my data": "Usuń moje dane",
    "You can ask us to erase your personal data (GDPR art. 17). The office carries the request out and confirms it; your portal account is then closed.":
        "Możesz zażądać usunięcia swoich danych osobowych (RODO art. 17). Biuro wykona żądanie i je potwierdzi; Twoje konto w portalu zostanie wtedy zamknięte.",
    "Send the erasure request": "Wyślij żądanie usunięcia danych",
    "All my data": "Wszystkie moje dane",
    "Download it (JSON)": "Pobierz je (JSON)",
    "Client": "Klient",
    "Portal logins": "Loginy do portalu",
    "last sign-in": "ostatnie logowanie",
    "Sites": "Adresy",
    "Description": "Opis",
    "Feedback": "Oceny",
    "Messages and notifications": "Wiadomości i powiadomienia",
    "Who accessed your data": "Kto korzystał z Twoich danych",
    "Who": "Kto",
    "What": "Co",
    "Rate the visit": "Oceń wizytę",
    "Your rating (1 = bad, 5 = very good)": "Twoja ocena (1 = źle, 5 = bardzo dobrze)",
    "Send": "Wyślij",
    "Feedback can be given once, on a finished visit.": "Ocenę można wystawić raz, po zakończonej wizycie.",
    "Sign in": "Zaloguj się",
    "Sign in to the client portal as %(account)s?": "Zalogować się do portalu klienta jako %(account)s?",
    "This link no longer works": "Ten link już nie działa",
    "A sign-in link works once and expires after a short time. Ask for a new one.":
        "Link logowania działa raz i wygasa po krótkim czasie. Poproś o nowy.",
    "E-mail me a new link": "Wyślij mi nowy link",
    "E-mail me a sign-in link": "Wyślij mi link logowania",
    "Enter the e-mail address you gave us. The link works once and only for a short time.":
        "Podaj adres e-mail, który nam przekazałeś. Link działa raz i tylko przez krótki czas.",
    "Send the link": "Wyślij link",
    "Sign in with a password": "Zaloguj się hasłem",
    "Check your e-mail": "Sprawdź skrzynkę e-mail",
    "If the address belongs to a client account, we have sent a sign-in link to it. The link is valid for %(minutes)s minutes and works once.":
        "Jeśli adres należy do konta klienta, wysłaliśmy na niego link logowania. Link jest ważny przez %(minutes)s minut i działa raz.",
    "Sign in to the client portal": "Logowanie do portalu klienta",
    "Sign in without a password (e-mail me a link)": "Zaloguj się bez hasła (wyślij mi link)",
    "Forgot your password?": "Nie pamiętasz hasła?",
    "Messages with the office": "Wiadomości z biurem",
    "Conversations": "Rozmowy",
    "Conversation": "Rozmowa",
    "You": "Ty",
    "Automatic message": "Wiadomość automatyczna",
    "Office": "Biuro",
    "No messages yet. Write to us below.": "Brak wiadomości. Napisz do nas poniżej.",
    "Your message": "Twoja wiadomość",
    "If you smell gas, leave the building and call 112 or 992 first.": "Jeśli czujesz gaz, najpierw wyjdź z budynku i zadzwoń pod 112 lub 992.",
    "Messages are not available at the moment. Please call the office.": "Wiadomości są chwilowo niedostępne. Prosimy o telefon do biura.",
    "No client account": "Brak konta klienta",
    "No client account is linked to this login. Please contact the office.": "Z tym loginem nie jest powiązane konto klienta. Skontaktuj się z biurem.",
    "We do not have an address of yours yet. Please send us a message or call the office.":
        "Nie mamy jeszcze Twojego adresu. Napisz do nas albo zadzwoń do biura.",
    "Mark all as read": "Oznacz wszystkie jako przeczytane",
    "No notifications.": "Brak powiadomień.",
    "Reset your password": "Zresetuj hasło",
    "E-mail me a reset link": "Wyślij mi link do resetu",
    "Password saved": "Hasło zapisane",
    "Set a new password": "Ustaw nowe hasło",
    "This reset link is invalid or was already used. Ask for a new one.": "Ten link do resetu jest nieprawidłowy lub został już użyty. Poproś o nowy.",
    "If the address belongs to an account, we have sent instructions to set a new password.":
        "Jeśli adres należy do konta, wysłaliśmy instrukcję ustawienia nowego hasła.",
    "Correct my contact data": "Popraw moje dane kontaktowe",
    "See all my data": "Zobacz wszystkie moje dane",
    "My consents and their history": "Moje zgody i ich historia",
    "Ask for my data to be erased": "Zażądaj usunięcia moich danych",
    "Your erasure request of %(d)s is waiting for the office.": "Twoje żądanie usunięcia danych z %(d)s czeka na biuro.",
    "What we keep after an erasure": "Co przechowujemy po usunięciu danych",
    "Book a visit here": "Umów wizytę pod tym adresem",
    "Visit no. %(id)s": "Wizyta nr %(id)s",
    "When": "Kiedy",
    "Move the visit": "Przełóż wizytę",
    "Cancel the visit": "Odwołaj wizytę",
    "You can cancel or move a visit up to %(cutoff_hours)s hours before it.":
        "Wizytę możesz odwołać lub przełożyć najpóźniej %(cutoff_hours)s godz. przed nią.",
    "Less than %(cutoff_hours)s hours before the visit changes are made by phone with the office.":
        "Na mniej niż %(cutoff_hours)s godz. przed wizytą zmiany ustalamy telefonicznie z biurem.",
    "Rate this visit": "Oceń tę wizytę",
    "Your rating: %(r)s/5": "Twoja ocena: %(r)s/5",
    "No open windows in the coming weeks.": "Brak wolnych terminów w najbliższych tygodniach.",
    "Move": "Przełóż",
    "Which visits": "Które wizyty",
    "Upcoming": "Nadchodzące",
    "Past": "Minione",
    "No visits.": "Brak wizyt.",
    "Pages": "Strony",
    "Previous": "Poprzednia",
    "Page %(n)s of %(total)s": "Strona %(n)s z %(total)s",
    "Next": "Następna",
    "You are signed in. You can set a password for next time on the account page.":
        "Zalogowano. Na stronie konta możesz ustawić hasło na następny raz.",
    "You are signed out.": "Wylogowano.",
    "You are signed out on all devices.": "Wylogowano na wszystkich urządzeniach.",
    "Your password was saved.": "Hasło zostało zapisane.",
    "The visit was cancelled.": "Wizyta została odwołana.",
    "The visit was moved.": "Wizyta została przełożona.",
    "Thank you for your feedback.": "Dziękujemy za ocenę.",
    "Write a message first.": "Najpierw napisz wiadomość.",
    "Your contact data was saved.": "Dane kontaktowe zostały zapisane.",
    "Your choice was saved.": "Twój wybór został zapisany.",
    "Your request was received. The office will carry it out and confirm by e-mail.":
        "Otrzymaliśmy Twoje żądanie. Biuro je wykona i potwierdzi e-mailem.",
    "Erasure request": "Żądanie usunięcia danych",
    "A client asked for erasure of their data (request %(id)s); execute it in the admin.":
        "Klient zażądał usunięcia swoich danych (żądanie %(id)s); wykonaj je w panelu administracyjnym.",
    "Your data has been erased": "Twoje dane zostały usunięte",
    "As you asked, we have erased your personal data and closed your client portal account.":
        "Zgodnie z Twoim żądaniem usunęliśmy Twoje dane osobowe i zamknęliśmy Twoje konto w portalu klienta.",
    "The law obliges us to keep the records below, under a pseudonym (no name, contact data or address):":
        "Przepisy nakazują nam przechowywać poniższe zapisy, pod pseudonimem (bez nazwiska, danych kontaktowych i adresu):",
    "This is the last message we send to this address.": "To ostatnia wiadomość, jaką wysyłamy na ten adres.",
    "Account locked": "Konto zablokowane",
    "Too many failed sign-in attempts. Try again later or contact the office.":
        "Zbyt wiele nieudanych prób logowania. Spróbuj później lub skontaktuj się z biurem.",
}
# templates/base.html (owned by the portal) is outside the app, so makemessages does not see it.
BASE_TEMPLATE = {
    "HVAC CRM": "HVAC CRM", "Skip to content": "Przejdź do treści", "HVAC Service Warsaw": "Serwis HVAC Warszawa",
    "Main": "Główna nawigacja",
}
PL.update(BASE_TEMPLATE)
PL_PLURAL = {
    "%(n)s unread": ["%(n)s nieprzeczytane", "%(n)s nieprzeczytane", "%(n)s nieprzeczytanych"],
}


def fill(path: Path) -> tuple[int, list[str]]:
    import polib

    po = polib.pofile(str(path))
    po.metadata["Plural-Forms"] = "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
    po.metadata["Language"] = "pl"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    filled, missing = 0, []
    for msgid in BASE_TEMPLATE:
        if po.find(msgid) is None:
            po.append(polib.POEntry(msgid=msgid, msgstr="", occurrences=[("templates/base.html", "")]))
    for entry in po:
        if entry.msgid_plural:
            forms = PL_PLURAL.get(entry.msgid)
            if forms:
                entry.msgstr_plural = dict(enumerate(forms))
                filled += 1
            else:
                missing.append(entry.msgid)
        elif entry.msgid in PL:
            entry.msgstr = PL[entry.msgid]
            filled += 1
        else:
            missing.append(entry.msgid)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    po.save()
    po.save_as_mofile(str(path.with_suffix(".mo")))
    return filled, missing


if __name__ == "__main__":
    filled, missing = fill(Path(__file__).parent / "pl" / "LC_MESSAGES" / "django.po")
    print("filled", filled, "missing", missing)
