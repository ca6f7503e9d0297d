"""The generator's data: the slot lists, the paraphrase families (each one situation in several
independent phrasings), the families held out for the frozen test split, and the SMS and mixed-language
perturbations. Kept apart from the generator in corpus.py so the code reads on one screen; the bytes
of the generated files depend on every character and every order here (a test checks the frozen split).
"""

from __future__ import annotations

__all__ = ["FAMILIES", "MIXERS", "SLOTS", "SMS", "TEST_FAMILIES", "TRAIN_ONLY_FAMILIES"]

SLOTS: dict[str, list[str]] = {
    # Polish
    "pl_room": ["w kuchni", "w łazience", "w piwnicy", "na korytarzu", "w kotłowni", "w salonie", "w garażu",
                "na klatce schodowej", "w pralni", "w sypialni"],
    "pl_heater": ["kocioł", "piec", "piec gazowy", "kocioł gazowy", "Vaillant", "junkers", "termet", "kocioł kondensacyjny"],
    "pl_ac": ["klimatyzacja", "klima", "klimatyzator", "split", "jednostka wewnętrzna", "klimatyzator Daikin", "klima LG"],
    "pl_when": ["od rana", "od godziny", "od wczoraj", "od 20 minut", "od nocy", "od kilku godzin", "od pół godziny", ""],
    "pl_who": ["babcia (89 lat)", "moja mama, 84 lata", "niemowlę", "dwoje małych dzieci", "schorowany dziadek",
               "sąsiadka po osiemdziesiątce", "ojciec po udarze", "chory tata", "noworodek"],
    "pl_cold": ["na dworze -15", "mróz -12 stopni", "w nocy ma być minus 18", "jest -20 na zewnątrz", "siarczysty mróz",
                "temperatura w domu spadła do 9 stopni, na dworze mróz"],
    "pl_place": ["na Mokotowie", "na Woli", "na Pradze", "w Wilanowie", "na Ursynowie", "na Bielanach", "w Śródmieściu", ""],
    "pl_greet": ["Dzień dobry,", "Witam,", "Dobry wieczór,", "Halo,", "", "", ""],
    "pl_sign": ["Pozdrawiam", "Dziękuję", "Proszę o kontakt", "Z góry dzięki", "", "", ""],
    "pl_shop": ["apteka", "przychodnia", "gabinet stomatologiczny", "apteka przy Puławskiej", "punkt szczepień"],
    "pl_store": ["chłodnia", "mroźnia", "komora chłodnicza", "chłodnia w magazynie", "lada chłodnicza w sklepie"],
    "pl_goods": ["mięso", "lody", "ryby", "nabiał", "towar za 80 tysięcy", "mrożonki"],
    "pl_error": ["F28", "E10", "F.75", "E1", "H6", "błąd 501", "EA", "P4"],
    "pl_size": ["30 m2", "45m2", "20 metrów", "do biura 60 m2", "do sypialni", "do trzech pokoi"],
    "pl_date": ["w przyszłym tygodniu", "w czwartek", "po 15 maja", "w weekend", "jutro po południu", "na początku miesiąca"],
    # English
    "en_room": ["in the kitchen", "in the basement", "in the hallway", "in the boiler room", "in the bathroom",
                "upstairs", "in the utility room", "in the garage", "in the living room"],
    "en_heater": ["boiler", "furnace", "gas boiler", "combi boiler", "Vaillant boiler", "heater"],
    "en_ac": ["AC", "air conditioner", "aircon", "split unit", "indoor unit", "A/C", "mini split"],
    "en_when": ["since this morning", "for an hour", "since last night", "for 20 minutes", "for a few hours", ""],
    "en_who": ["my 88-year-old grandmother", "a newborn baby", "two toddlers", "my elderly father", "my mum who is 85",
               "a sick child", "an elderly neighbour who lives alone", "my disabled brother"],
    "en_cold": ["it's -15 outside", "it is minus 12 tonight", "it's freezing outside", "temperatures below zero",
                "the house is down to 9 degrees and it's snowing"],
    "en_greet": ["Hi,", "Hello,", "Good morning,", "Hi there,", "", "", ""],
    "en_sign": ["Thanks", "Please call me", "Regards", "Cheers", "", "", ""],
    "en_shop": ["pharmacy", "clinic", "dental practice", "GP surgery", "vaccination point"],
    "en_store": ["cold store", "walk-in freezer", "cold room", "freezer room", "refrigerated warehouse"],
    "en_goods": ["meat", "ice cream", "fish", "dairy", "stock worth 20k", "frozen food"],
    "en_error": ["F28", "E10", "F75", "E1", "H6", "error 501", "EA", "P4"],
    "en_size": ["a 30 m2 room", "our office, about 60 m2", "the bedroom", "three rooms", "a small shop"],
    "en_date": ["next week", "on Thursday", "after the 15th", "at the weekend", "tomorrow afternoon", "early next month"],
}

# (family id, label, language, phrasings). Each family is one situation in independent wordings.
FAMILIES: list[tuple[str, str, str, list[str]]] = [
    # --- emergency: gas ---
    ("gas_smell_pl", "emergency", "pl", [
        "{pl_greet} czuć gaz {pl_room} {pl_when}, co robić?",
        "Śmierdzi gazem {pl_room}, {pl_heater} chyba nieszczelny",
        "Bardzo mocny zapach gazu {pl_room}, boimy się",
        "Wyczuwam gaz przy kuchence {pl_when}",
        "{pl_heater} syczy i jest smród gazu w całym mieszkaniu",
        "Ulatnia się gaz {pl_room}! {pl_place}",
    ]),
    ("gas_smell_en", "emergency", "en", [
        "{en_greet} I can smell gas {en_room} {en_when}",
        "Strong smell of gas {en_room}, what should we do?",
        "There's a gas leak near the {en_heater}",
        "Whole flat smells of gas, the {en_heater} is hissing",
        "We think gas is escaping {en_room}",
        "Gas odour {en_room} {en_when}, please help",
    ]),
    ("gas_pipe_pl", "emergency", "pl", [
        "Przy liczniku gazowym coś syczy i czuć gaz",
        "Pękła rurka gazowa przy piecu, słychać syczenie",
        "Sąsiad mówi, że na klatce czuć gaz od naszego {pl_heater}",
        "Po wymianie licznika czuć gaz w mieszkaniu",
    ]),
    ("gas_pipe_en", "emergency", "en", [
        "Hissing from the gas meter and a gas smell",
        "The gas pipe to the {en_heater} is damaged and we can smell it",
        "Neighbour says our stairwell smells of gas, coming from the {en_heater}",
    ]),
    # --- emergency: carbon monoxide ---
    ("co_alarm_pl", "emergency", "pl", [
        "Czujnik czadu piszczy {pl_when} {pl_room}",
        "Alarm tlenku węgla wyje, {pl_heater} pracuje",
        "Włączył się czujnik CO przy {pl_heater}",
        "Detektor czadu pokazuje 150 ppm i alarmuje",
        "Czujnik czadu ciągle się włącza jak chodzi {pl_heater}",
    ]),
    ("co_alarm_en", "emergency", "en", [
        "The carbon monoxide alarm is going off {en_room}",
        "CO detector keeps beeping {en_when}",
        "Our CO alarm went off next to the {en_heater}",
        "CO sensor reading 120 ppm and sounding",
    ]),
    ("co_symptoms_pl", "emergency", "pl", [
        "Po włączeniu pieca boli nas głowa i kręci się w głowie, dzieci wymiotują",
        "Wszyscy w domu senni i mają mdłości odkąd działa {pl_heater}, może czad?",
        "Podejrzewam zatrucie czadem, mama zasłabła w łazience",
        "W łazience z piecykiem gazowym duszno, żona straciła przytomność",
    ]),
    ("co_symptoms_en", "emergency", "en", [
        "Since the {en_heater} came on we all have headaches and feel dizzy, kids are sick",
        "Everyone is drowsy and nauseous at home, could it be carbon monoxide?",
        "My husband fainted in the bathroom where the gas water heater is",
        "Dizzy children and a headache, the CO alarm chirped once",
    ]),
    # --- emergency: smoke, fire ---
    ("fire_pl", "emergency", "pl", [
        "Z jednostki zewnętrznej leci dym",
        "{pl_ac} się pali, widać płomień",
        "Czuć spaleniznę z {pl_heater} i jest dym {pl_room}",
        "Iskrzy w skrzynce klimatyzatora i śmierdzi spalonym plastikiem",
        "Pożar przy centrali wentylacyjnej na dachu",
        "Z wentylatora na dachu wydobywa się gęsty dym",
        "Kable przy pompie ciepła się stopiły i dymią",
    ]),
    ("fire_en", "emergency", "en", [
        "Smoke coming out of the outdoor unit",
        "The {en_ac} caught fire, there are flames",
        "Burning smell and smoke from the {en_heater}",
        "Sparks from the AC electrical box",
        "Fire at the ventilation unit on the roof",
        "The wiring at the heat pump melted and is smoking",
    ]),
    # --- emergency: water on electrics, flooding ---
    ("water_electric_pl", "emergency", "pl", [
        "Woda z klimatyzatora leci prosto na gniazdko",
        "Z sufitu pod {pl_ac} kapie woda na rozdzielnię elektryczną",
        "Leje się woda z jednostki na tablicę z bezpiecznikami",
        "Zalało szafę sterowniczą pod klimatyzacją, iskrzy",
        "Woda spływa po ścianie do kontaktu {pl_room}",
    ]),
    ("water_electric_en", "emergency", "en", [
        "Water pouring from the {en_ac} onto the electrical panel",
        "Water is running down the wall into a socket {en_room}",
        "The AC is leaking onto the fuse box",
        "Condensate dripping straight onto the server rack power strip",
    ]),
    ("flood_pl", "emergency", "pl", [
        "Pękła rura przy {pl_heater}, zalewa piwnicę",
        "Kotłownia zalana, woda po kostki",
        "Tryska woda z instalacji grzewczej, nie możemy zakręcić",
        "Woda leje się z sufitu pod kotłem",
    ]),
    ("flood_en", "emergency", "en", [
        "A pipe burst by the {en_heater} and the basement is flooding",
        "Boiler room flooded, water everywhere",
        "Water gushing out of the heating system and we can't shut it off",
    ]),
    # --- emergency: refrigerant in an occupied room ---
    ("refrigerant_pl", "emergency", "pl", [
        "Z klimatyzatora w sypialni syczy i czuć chemiczny zapach, dzieci śpią obok",
        "Wyciek czynnika chłodniczego w pokoju, głośne syczenie i dziwny zapach",
        "W biurze coś syczy w jednostce, ludzie skarżą się na ból głowy",
        "Rurka od klimy pękła w pokoju dziecka, ulatnia się czynnik",
    ]),
    ("refrigerant_en", "emergency", "en", [
        "Loud hissing from the AC in the bedroom and a chemical smell",
        "Refrigerant leaking into the office, people feel sick",
        "The indoor unit is hissing and there's a sweet chemical smell in the kids' room",
    ]),
    # --- emergency: business-critical ---
    ("server_pl", "emergency", "pl", [
        "Serwerownia się przegrzewa, klimatyzacja stanęła, jest 38 stopni",
        "Padło chłodzenie w serwerowni, temperatura rośnie",
        "Klima w serwerowni nie działa, serwery się wyłączają",
        "Awaria precyzyjnej klimatyzacji w serwerowni {pl_place}",
    ]),
    ("server_en", "emergency", "en", [
        "Server room overheating, cooling is down",
        "The server room AC has failed and it's already 35 degrees",
        "Our data room cooling stopped, servers are shutting down",
    ]),
    ("coldstore_pl", "emergency", "pl", [
        "{pl_store} nie chłodzi, temperatura wzrosła do 8 stopni, {pl_goods} się zepsuje",
        "Agregat chłodni stanął, tracimy {pl_goods}",
        "Awaria mroźni, jest już -2 zamiast -18",
    ]),
    ("coldstore_en", "emergency", "en", [
        "The {en_store} stopped cooling, it's 8 degrees and rising, we'll lose the {en_goods}",
        "Compressor on the {en_store} died, stock is thawing",
    ]),
    ("pharmacy_pl", "emergency", "pl", [
        "{pl_shop}: lodówka na szczepionki nie chłodzi, leki są zagrożone",
        "W aptece padła klimatyzacja, 31 stopni, leki nie mogą przekroczyć 25",
        "Przychodnia bez chłodzenia, szczepionki trzeba ratować",
    ]),
    ("pharmacy_en", "emergency", "en", [
        "The {en_shop} vaccine fridge stopped cooling, medication at risk",
        "AC failure at the {en_shop}, 30 degrees inside and the medicines must stay below 25",
    ]),
    ("frost_pl", "emergency", "pl", [
        "Nie grzeje, w domu {pl_who}, {pl_cold}",
        "{pl_heater} stanął w nocy, {pl_cold}, a w domu {pl_who}",
        "Brak ogrzewania od wczoraj, {pl_who} marznie",
        "Zimne kaloryfery, {pl_cold}, mieszka tu {pl_who}",
    ]),
    ("frost_en", "emergency", "en", [
        "No heating and {en_cold}, we have {en_who} at home",
        "The {en_heater} died overnight, {en_cold}, and {en_who} lives here",
        "{en_who} is without heat and {en_cold}",
    ]),
    # --- high: failures without danger ---
    ("noheat_pl", "high", "pl", [
        "{pl_heater} nie grzeje {pl_when}",
        "Brak ciepłej wody {pl_when}",
        "Kaloryfery letnie, {pl_heater} się wyłącza",
        "{pl_heater} nie chce się uruchomić",
        "Ogrzewanie przestało działać, prosimy o serwis",
    ]),
    ("noheat_en", "high", "en", [
        "The {en_heater} isn't heating {en_when}",
        "No hot water {en_when}",
        "Radiators are only lukewarm and the {en_heater} keeps cutting out",
        "{en_heater} won't start",
    ]),
    ("nocool_pl", "high", "pl", [
        "{pl_ac} nie chłodzi {pl_when}",
        "{pl_ac} dmucha ciepłym powietrzem",
        "W biurze nie działa klimatyzacja, jest gorąco",
        "Klimatyzator się nie włącza, pilot nie reaguje",
    ]),
    ("nocool_en", "high", "en", [
        "The {en_ac} stopped cooling {en_when}",
        "Our {en_ac} blows warm air",
        "Office air conditioning not working, it's hot",
    ]),
    ("error_pl", "high", "pl", [
        "{pl_heater} pokazuje błąd {pl_error}",
        "Na wyświetlaczu klimy miga kod {pl_error}",
        "Pompa ciepła wyświetla {pl_error} i nie grzeje",
    ]),
    ("error_en", "high", "en", [
        "The {en_heater} shows error {en_error}",
        "Code {en_error} flashing on the {en_ac}",
        "Heat pump displays {en_error}",
    ]),
    ("drip_pl", "high", "pl", [
        "Z {pl_ac} kapie woda na parapet",
        "Cieknie skropliny z jednostki, podstawiliśmy miskę",
        "Mokra plama na ścianie pod klimatyzatorem",
    ]),
    ("drip_en", "high", "en", [
        "Water dripping from the {en_ac} into a bucket",
        "Condensate leaking from the indoor unit onto the floor",
        "Wet patch on the wall under the {en_ac}",
    ]),
    ("noise_pl", "high", "pl", [
        "{pl_ac} strasznie hałasuje i wyłącza się",
        "Jednostka zewnętrzna stuka i przestała działać",
        "Wentylator rekuperatora zgrzyta i stanął",
    ]),
    ("noise_en", "high", "en", [
        "The outdoor unit is rattling and then shuts down",
        "Grinding noise from the {en_ac} and it stopped",
    ]),
    ("business_high_pl", "high", "pl", [
        "Klimatyzacja w sklepie nie działa, klienci narzekają",
        "Rekuperacja w przedszkolu nie działa od wczoraj",
        "Awaria wentylacji w restauracji, kuchnia pracuje",
    ]),
    ("business_high_en", "high", "en", [
        "Shop AC not working, customers complaining",
        "Ventilation failure in the restaurant kitchen",
    ]),
    # --- normal: quotes, maintenance, inspections, admin ---
    ("quote_pl", "normal", "pl", [
        "{pl_greet} proszę o wycenę klimatyzacji {pl_size}",
        "Ile kosztuje montaż klimatyzatora {pl_size}?",
        "Interesuje mnie pompa ciepła do domu 150 m2, proszę o ofertę",
        "Chcemy wymienić stary {pl_heater} na nowy, proszę o wycenę",
    ]),
    ("quote_en", "normal", "en", [
        "{en_greet} could you quote for air conditioning in {en_size}?",
        "How much to install a heat pump in a 150 m2 house?",
        "Looking for a price to replace our old {en_heater}",
    ]),
    ("maint_pl", "normal", "pl", [
        "Chciałbym umówić przegląd klimatyzacji {pl_date}",
        "Proszę o czyszczenie i odgrzybianie klimy {pl_date}",
        "Coroczny serwis pompy ciepła, kiedy macie termin?",
        "Wymiana filtrów w rekuperatorze {pl_date}",
    ]),
    ("maint_en", "normal", "en", [
        "I'd like to book an AC service {en_date}",
        "Can you clean and disinfect our split units {en_date}?",
        "Annual heat pump maintenance, when are you free?",
    ]),
    ("admin_pl", "normal", "pl", [
        "Proszę o fakturę za ostatnią wizytę",
        "Czy technik może przyjść {pl_date} zamiast jutro?",
        "Dziękuję za sprawną naprawę, wszystko działa",
        "Jaki jest status mojego zlecenia?",
        "Zmiana numeru telefonu kontaktowego",
    ]),
    ("admin_en", "normal", "en", [
        "Please send the invoice for the last visit",
        "Can the technician come {en_date} instead?",
        "Thanks for the quick repair, all good now",
        "What's the status of my job?",
    ]),
    # --- normal: hard negatives that name a danger without one ---
    ("hardneg_gas_pl", "normal", "pl", [
        "Proszę o coroczny przegląd kotła gazowego {pl_date}",
        "Potrzebuję protokołu ze sprawdzenia szczelności instalacji gazowej",
        "Kiedy przegląd gazowy? Zarządca wymaga go do końca miesiąca",
        "Po wczorajszej wizycie już nie czuć gazu, dziękujemy",
    ]),
    ("hardneg_gas_en", "normal", "en", [
        "Annual gas boiler inspection {en_date}, please",
        "We need a gas safety certificate for our tenants",
        "After your visit there is no gas smell any more, thanks",
    ]),
    ("hardneg_co_pl", "normal", "pl", [
        "Ile kosztuje montaż czujnika czadu?",
        "Proszę o wycenę czujników CO do trzech mieszkań",
        "Czy przy przeglądzie możecie wymienić baterię w czujniku czadu?",
    ]),
    ("hardneg_co_en", "normal", "en", [
        "Quote for CO sensor installation please",
        "Can you fit a carbon monoxide detector during the service?",
        "How often should the CO alarm be replaced?",
    ]),
    ("hardneg_fire_pl", "normal", "pl", [
        "Potrzebujemy przeglądu klap dymowych i wentylacji pożarowej",
        "Czy montujecie czujniki dymu w biurze?",
        "Proszę o wycenę oddymiania klatki schodowej",
    ]),
    ("hardneg_fire_en", "normal", "en", [
        "We need the smoke extraction system inspected",
        "Do you install smoke detectors in offices?",
        "Fire damper inspection for our building {en_date}",
    ]),
    ("hardneg_business_pl", "normal", "pl", [
        "Wycena klimatyzacji do nowej serwerowni",
        "Umowa serwisowa na chłodnię, proszę o ofertę",
        "Apteka: prosimy o przegląd klimatyzacji {pl_date}",
        "Przegląd F-gazowy agregatu chłodni {pl_date}",
    ]),
    ("hardneg_business_en", "normal", "en", [
        "Quote for cooling in our new server room",
        "Maintenance contract for the {en_store}, please send an offer",
        "F-gas leak check for the cold room {en_date}",
    ]),
]

# Training-only families, added after the frozen split was made (so they cannot change it): the
# situations cross-validation on the training split showed the model calling emergencies (see
# docs/triage.md, "Precision"): inspections and quotes that name gas, CO, smoke or fire; past
# incidents; thanks after a repair; failures without danger (no heat, no cooling, drips, error
# codes, noise) written as urgently as an emergency. Generated with their own seed.
TRAIN_ONLY_FAMILIES: list[tuple[str, str, str, list[str]]] = [
    ("x_gas_inspection_pl", "normal", "pl", [
        "{pl_greet} proszę o termin przeglądu instalacji gazowej {pl_date}",
        "Administracja wymaga protokołu ze szczelności instalacji gazowej, kiedy możecie przyjść?",
        "Chcę umówić serwis kotła gazowego przed sezonem grzewczym, {pl_date} pasuje",
        "Ile kosztuje roczny przegląd {pl_heater} z protokołem dla ubezpieczyciela?",
    ]),
    ("x_gas_inspection_en", "normal", "en", [
        "{en_greet} I'd like to book the yearly gas safety check {en_date}",
        "Our landlord needs a gas appliance certificate, can you do it {en_date}?",
        "How much is a service of the {en_heater} including the flue gas analysis?",
        "Please schedule the annual boiler service before winter, {en_sign}",
    ]),
    ("x_past_incident_pl", "normal", "pl", [
        "W zeszłym roku mieliśmy wyciek gazu, teraz chcemy tylko zwykły przegląd kotła",
        "Po awarii z czadem dwa lata temu zamontowaliście czujnik, prosimy o kontrolę {pl_date}",
        "Kiedyś był u nas pożar w kotłowni, dlatego co roku robimy przegląd, proszę o termin",
        "Wszystko działa od naprawy, dziękujemy; dawny problem z zapachem gazu zniknął",
    ]),
    ("x_past_incident_en", "normal", "en", [
        "We had a gas leak last year, now we just want the regular service booked",
        "After the carbon monoxide scare two winters ago we check the boiler yearly, {en_date} please",
        "There was a small fire in the plant room years ago, so we want the annual inspection",
        "Since your repair the smell of gas is gone, thank you, just confirming the follow-up visit",
    ]),
    ("x_detector_quote_pl", "normal", "pl", [
        "Proszę o ofertę na montaż czujnika czadu i czujnika gazu w mieszkaniu",
        "Czy montujecie czujniki dymu razem z rekuperacją? Proszę o wycenę",
        "Czujnik tlenku węgla ma skończoną żywotność, chcę kupić nowy z montażem",
        "Ile kosztuje detektor CO do łazienki z piecykiem, {pl_sign}",
    ]),
    ("x_detector_quote_en", "normal", "en", [
        "Could you quote for fitting carbon monoxide detectors in {en_size}?",
        "Do you sell and install smoke alarms along with the ventilation system?",
        "The CO detector has reached end of life, we want a replacement fitted {en_date}",
        "Looking for a price on gas detectors for a restaurant kitchen, {en_sign}",
    ]),
    ("x_fire_safety_maint_pl", "normal", "pl", [
        "Prosimy o coroczny przegląd klap przeciwpożarowych w kanałach wentylacyjnych",
        "Potrzebujemy odbioru systemu oddymiania klatki schodowej przed odbiorem budynku",
        "Proszę o wycenę czyszczenia kanałów wentylacyjnych w kuchni restauracji {pl_date}",
    ]),
    ("x_fire_safety_maint_en", "normal", "en", [
        "We need our fire dampers tested and certified this year",
        "Please quote for the smoke ventilation maintenance in our stairwell",
        "Kitchen extract duct cleaning for the restaurant, {en_date} if possible",
    ]),
    ("x_install_quote_pl", "normal", "pl", [
        "Planujemy wymianę starego pieca gazowego na pompę ciepła, proszę o ofertę",
        "Ile by kosztowała klimatyzacja {pl_size} z montażem {pl_date}?",
        "Proszę o wycenę klimatyzacji precyzyjnej do nowej serwerowni w biurowcu",
        "Chcemy przenieść kocioł gazowy do innego pomieszczenia, ile to kosztuje?",
    ]),
    ("x_install_quote_en", "normal", "en", [
        "We are thinking of replacing the old gas boiler with a heat pump, could you quote?",
        "How much would it cost to fit air conditioning in {en_size}?",
        "Can you move our gas boiler to the utility room, and what would that cost?",
    ]),
    ("x_failure_pl", "high", "pl", [
        "Pilne!! {pl_heater} nie grzeje {pl_when}, w domu coraz chłodniej, prosimy o szybki przyjazd",
        "{pl_ac} przestała chłodzić i tylko szumi, w biurze gorąco, prosimy o serwis jak najszybciej",
        "Z jednostki wewnętrznej kapie woda {pl_room}, podłoga mokra, podstawiliśmy wiadro",
        "Na wyświetlaczu kotła {pl_error}, nie ma ciepłej wody, co robić?",
        "Jednostka zewnętrzna strasznie hałasuje i się wyłącza, proszę o pilny serwis",
    ]),
    ("x_failure_en", "high", "en", [
        "URGENT the {en_heater} stopped working {en_when}, house getting cold, please come soon",
        "Our {en_ac} quit cooling and the office is boiling, need a technician asap",
        "Water dripping from the indoor unit {en_room}, we put a bucket under it",
        "The {en_heater} shows {en_error} and there's no hot water, help please",
        "Outdoor unit makes a loud banging noise then cuts out, please send someone quickly",
    ]),
    ("x_failure2_pl", "high", "pl", [
        "Na piętrze kaloryfery zimne, na dole ledwo letnie, {pl_heater} co chwilę się blokuje",
        "{pl_ac} nie schładza, leci tylko ciepłe powietrze {pl_when}",
        "Po deszczu zaciek na ścianie pod jednostką klimatyzacji, proszę o serwis",
        "Termostat nie reaguje i {pl_heater} grzeje cały czas na maksa",
        "Pompa ciepła pokazuje {pl_error} i nie chce wystartować, dom się wychładza",
    ]),
    ("x_failure2_en", "high", "en", [
        "Upstairs radiators are cold and the {en_heater} keeps locking out",
        "The {en_ac} runs but only pushes out warm air {en_when}",
        "There's a damp patch spreading on the wall under the {en_ac}, can someone look at it",
        "Thermostat is dead and the {en_heater} won't stop firing, house too hot",
        "Heat pump flashing {en_error} and refusing to restart, it's getting chilly indoors",
    ]),
    ("x_critical_pl", "emergency", "pl", [
        "W serwerowni {pl_when} nie działa chłodzenie, temperatura rośnie, serwery zaraz się wyłączą",
        "{pl_store} przestała mrozić, {pl_goods} się rozmraża, potrzebny serwis natychmiast",
        "Lodówka ze szczepionkami w przychodni ma już 15 stopni, prosimy o pilny przyjazd",
        "{pl_who} w domu bez ogrzewania, {pl_cold}, kocioł nie działa",
        "Czujnik czadu piszczy, a dzieci mają zawroty głowy i mdłości",
        "Woda z klimatyzatora leje się prosto do gniazdka, iskrzy",
    ]),
    ("x_critical_en", "emergency", "en", [
        "Cooling in the server room failed {en_when}, temperature climbing, servers about to shut down",
        "The {en_store} stopped holding temperature and the {en_goods} is thawing, need someone now",
        "The vaccine fridge at the {en_shop} is at 14 degrees and rising, please come urgently",
        "{en_who} is at home with no heating and {en_cold}",
        "CO alarm keeps going off and we all have headaches and feel sick",
        "Water running from the AC straight into the plug socket, it's sparking",
    ]),
]

# Families whose every phrasing goes to the frozen test split: at least one per label and language,
# chosen by hand before any tuning so the split holds situations phrased in ways training never saw.
TEST_FAMILIES = frozenset({
    "gas_pipe_pl", "gas_pipe_en", "co_symptoms_en", "water_electric_pl", "refrigerant_en", "server_en",
    "pharmacy_pl", "frost_en", "coldstore_en", "error_pl", "drip_en", "noise_pl", "business_high_en",
    "maint_en", "admin_pl", "hardneg_co_en", "hardneg_fire_pl", "hardneg_business_en", "quote_pl",
})

SMS = {
    "proszę": ["pls", "prosze", "prosze"], "please": ["pls", "plz"], "you": ["u"], "are": ["r"],
    "jak najszybciej": ["asap", "jak najszybciej"], "dziękuję": ["dzieki", "dzk", "thx"], "thanks": ["thx", "ty"],
    "because": ["bc"], "tomorrow": ["tmrw"], "wiadomość": ["wiad"], "jest": ["jst"], "nie": ["ni", "nie"],
    "i am": ["im"], "what": ["wat"], "co robić": ["co robic??", "co robimy"], "should": ["shud"],
}
MIXERS = {
    "pl": ["Hi,", "Hello,", "thx", "sorry for my Polish", "help pls", "ok?"],
    "en": ["Dzień dobry,", "dzięki", "pozdrawiam", "proszę", "sorry za angielski", "halo"],
}
