"""The communications part of `seed_demo`: conversations in Polish and English on the demo clients."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from communications import services
from communications.models import Conversation
from hvaccrm.models import Client
from hvaccrm.seed import register_seeder

MARK = "[demo] "

# (subject, [(who, text)]) where who is "client" or "office"; Polish first, then English.
THREADS_PL = [
    ("Przegląd klimatyzacji", [("client", "Dzień dobry, chciałabym umówić coroczny przegląd klimatyzacji."),
                               ("office", "Dzień dobry, mamy wolny termin w czwartek o 10:00. Pasuje?"),
                               ("client", "Tak, czwartek jest w porządku, dziękuję.")]),
    ("Kocioł nie grzeje", [("client", "Kocioł pokazuje błąd F28 i nie grzeje od rana."),
                           ("office", "Przyjęliśmy zgłoszenie, technik oddzwoni w ciągu godziny.")]),
    ("Wycena pompy ciepła", [("client", "Proszę o wycenę montażu pompy ciepła w domu 140 m2.")]),
    ("Wyciek z jednostki", [("client", "Z jednostki wewnętrznej kapie woda na podłogę.")]),
]
THREADS_EN = [
    ("AC service", [("client", "Hello, could we book an AC cleaning before the summer?"),
                    ("office", "Of course, next Tuesday morning works for us.")]),
    ("No heating", [("client", "No heating since this morning, the boiler shows an error.")]),
    ("Invoice", [("client", "Please send the invoice for the last visit."),
                 ("office", "Sent to your e-mail address, thank you.")]),
]
EMERGENCY = ("Zapach gazu", [("client", "Czuć gaz w kuchni przy piecu, co mamy robić?")])


@register_seeder("communications", order=30)
def seed_communications(*, rng, stdout=None) -> str:
    if Conversation.objects.filter(subject__startswith=MARK).exists():
        return f"{Conversation.objects.filter(subject__startswith=MARK).count()} demo conversations (kept)"
    office = get_user_model().objects.filter(username="dispatcher").first()
    clients = list(Client.objects.filter(email__endswith="@demo.hvac.example", users__isnull=False).distinct()
                   .order_by("id"))
    others = list(Client.objects.filter(email__endswith="@demo.hvac.example", users__isnull=True).order_by("id")[:8])
    if office is None or not clients:
        return "skipped: run the core seeder first"
    made = messages = 0
    plan = []
    for client in clients + others:
        threads = THREADS_EN if client.preferred_language == "en" else THREADS_PL
        plan.append((client, threads[made % len(threads)]))
        made += 1
    # Anna (the first demo login) gets a Polish and an English thread and the emergency.
    plan += [(clients[0], THREADS_EN[0]), (clients[0], EMERGENCY)]
    for client, (subject, lines) in plan:
        conv = Conversation.objects.create(client=client, subject=MARK + subject, channel="portal")
        portal_user = client.users.order_by("id").first()
        for who, text in lines:
            author = office if who == "office" or portal_user is None else portal_user
            services.message_send(author=author, conversation_id=conv.pk, body=text)
            messages += 1
    return f"{len(plan)} conversations, {messages} messages (Polish and English)"
