"""The core's demo data: staff, 12 technicians, ~300 clients with sites and equipment in all 18
districts, and the last quarter's jobs near capacity with HVAC seasons and weather (older history
is weekly counts, kept by prophecy's seeder from the same model: `weekly_demand`)."""

from __future__ import annotations

import functools
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from shapely.geometry import Point, shape

from hvaccrm.models import Client, Consent, District, Equipment, ServiceJob, Site, Technician
from hvaccrm.models.jobs import JobSource, JobStatus
from hvaccrm.seed import demo_password, register_seeder
from hvaccrm.seed_texts import job_text
from hvaccrm.services.bootstrap import districts_ensure, roles_ensure
from hvaccrm.validators import NIP_WEIGHTS

WARSAW = ZoneInfo("Europe/Warsaw")
FIRST = ["Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł", "Agnieszka", "Michał", "Joanna", "Krzysztof",
         "Ewa", "Marcin", "Aleksandra", "Jakub", "Monika", "Łukasz", "Zofia", "Grzegorz", "Natalia", "Wojciech"]
LAST = ["Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
        "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Kwiatkowski", "Krawczyk"]
FEMININE = {"ski": "ska", "cki": "cka", "dzki": "dzka"}
STREETS = ["Puławska", "Marszałkowska", "Grójecka", "Górczewska", "Modlińska", "Grochowska", "Wołoska",
           "Jana Pawła II", "Radzymińska", "Ostrobramska", "Powstańców Śląskich", "Sobieskiego", "Połczyńska",
           "Żwirki i Wigury", "Wał Miedzeszyński", "Kondratowicza", "Mickiewicza", "Andersa", "KEN", "Bora-Komorowskiego"]
COMPANY = ["Biuro Rachunkowe", "Kancelaria", "Restauracja", "Hotel", "Przychodnia", "Sklep", "Pracownia", "Serwerownia"]
BRANDS = {"split_ac": ["Daikin", "Mitsubishi Electric", "LG", "Gree"], "multi_split": ["Daikin", "Fujitsu"],
          "heat_pump": ["Panasonic", "Viessmann", "Vaillant"], "gas_boiler": ["Vaillant", "Viessmann", "Junkers"],
          "ventilation": ["Zehnder", "Brink"], "chiller": ["Carrier", "Trane"]}
REFRIGERANT = {"split_ac": ("R32", 0.6, 1.5), "multi_split": ("R410A", 2.0, 4.5), "heat_pump": ("R410A", 1.5, 3.5),
               "chiller": ("R134a", 15.0, 60.0), "gas_boiler": ("", 0, 0), "ventilation": ("", 0, 0)}
TECHNICIANS = [("Jan", "Mazur", "mokotow"), ("Adam", "Wróbel", "srodmiescie"), ("Marek", "Pawlak", "wola"),
               ("Robert", "Sikora", "ursynow"), ("Kamil", "Baran", "praga-poludnie"), ("Dawid", "Górski", "bielany"),
               ("Sebastian", "Rutkowski", "wilanow"), ("Patryk", "Michalski", "targowek"), ("Mateusz", "Zając", "bemowo"),
               ("Szymon", "Król", "bialoleka"), ("Rafał", "Wieczorek", "wawer"), ("Artur", "Jabłoński", "ochota")]
SKILL_SETS = [["split_ac", "multi_split", "fgas_certified", "electrical"], ["gas_boiler", "heat_pump", "electrical"],
              ["split_ac", "heat_pump", "fgas_certified"], ["ventilation", "chiller", "fgas_certified"]]
DEMO_CLIENTS = 300


def _surname(last: str, female: bool) -> str:
    if female:
        for suffix, fem in FEMININE.items():
            if last.endswith(suffix):
                return last[: -len(suffix)] + fem
    return last


def _nip(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        check = sum(d * w for d, w in zip(digits, NIP_WEIGHTS, strict=True)) % 11
        if check != 10 and digits[0] != 0:
            return "".join(map(str, digits)) + str(check)


def _point_in(geom, rng: random.Random) -> tuple[float, float]:
    minx, miny, maxx, maxy = geom.bounds
    inner = geom.buffer(-0.002) if geom.area > 0.0005 else geom
    for _ in range(500):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if inner.contains(Point(x, y)):
            return round(y, 6), round(x, 6)
    p = geom.representative_point()
    return p.y, p.x


@functools.lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    # One slow hash for every demo account: PBKDF2 per user would dominate the seed's time.
    return make_password(demo_password())


def _user(username: str, *, first: str = "", last: str = "", email: str = "", staff: bool = False,
          superuser: bool = False, role: str | None = None):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={
        "first_name": first, "last_name": last, "email": email, "is_staff": staff, "is_superuser": superuser})
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


# Seasonal demand per service type by month (1..12): cooling in summer, heating in winter,
# installations in spring, inspections spread evenly.
SEASON = {
    "installation": [0.4, 0.5, 1.0, 1.6, 1.8, 1.5, 1.0, 0.8, 0.7, 0.6, 0.5, 0.4],
    "maintenance": [0.6, 0.6, 0.9, 1.3, 1.4, 1.0, 0.8, 0.8, 1.4, 1.5, 1.0, 0.7],
    "repair": [1.5, 1.4, 1.0, 0.7, 0.8, 1.4, 1.9, 1.7, 0.8, 0.8, 1.1, 1.5],
    "inspection": [1.0] * 12,
}
# A mean week's job-hours of each service type as a share of a district's capacity (together
# about 0.6: a company booked near capacity, with the seasons and the weather above it).
CAPACITY_SHARE = {"installation": 0.13, "maintenance": 0.13, "repair": 0.28, "inspection": 0.05}
JOB_MINUTES = {"installation": 180, "maintenance": 60, "repair": 90, "inspection": 45}
# How hard each district's repairs are hit: in heat (dense blocks, offices, server rooms) and in
# frost (houses on gas boilers and heat pumps). 1.0 where not listed.
HEAT_PRESSURE = {"srodmiescie": 1.6, "wola": 1.5, "mokotow": 1.3, "praga-polnoc": 1.4, "ochota": 1.2}
FROST_PRESSURE = {"wawer": 2.2, "bialoleka": 2.0, "wesola": 2.1, "wilanow": 1.5, "ursus": 1.5, "rembertow": 1.6}
RECENT_WEEKS = 13  # job rows for the last quarter; older history is kept as weekly counts
BOOKED_AHEAD = (1.0, 0.7, 0.35)  # share of a week's jobs already booked: this week, next, the one after


def weather(week: date) -> tuple[str, float]:
    """The week's weather event, the same on every seed: a heat wave in some summer weeks (strength
    1.3-1.8), a frost in some winter weeks (1.15-1.45), else ("", 1.0)."""
    draw = random.Random(f"weather:{week.isoformat()}")
    roll, strength = draw.random(), draw.random()
    if week.month in (6, 7, 8) and roll < 0.3:
        return "heat", 1.3 + 0.5 * strength
    if week.month in (12, 1, 2) and roll < 0.3:
        return "frost", 1.15 + 0.3 * strength
    return "", 1.0


def _season(service_type: str, day: date) -> float:
    """The monthly season table read as a smooth curve (linear between mid-months)."""
    table = SEASON[service_type]
    pos = (day.timetuple().tm_yday - 15.0) / (365.25 / 12)
    i = math.floor(pos)
    frac = pos - i
    return table[i % 12] * (1 - frac) + table[(i + 1) % 12] * frac


def weekly_demand(*, week: date, district: str, service_type: str, capacity_hours: float) -> float:
    """The expected number of jobs of one type in one district and week (the seeders' model):
    smooth seasons (a forecast can learn them), the districts' heat and frost pressure on repairs
    rising into summer and winter, and the week's weather on top."""
    jobs = capacity_hours * CAPACITY_SHARE[service_type] * _season(service_type, week) * 60 / JOB_MINUTES[service_type]
    event, strength = weather(week)
    if service_type == "repair":
        day = week.timetuple().tm_yday
        summer = max(0.0, math.cos(2 * math.pi * (day - 200) / 365.25))
        winter = max(0.0, math.cos(2 * math.pi * (day - 15) / 365.25))
        jobs *= 1 + (HEAT_PRESSURE.get(district, 1.0) - 1) * summer + (FROST_PRESSURE.get(district, 1.0) - 1) * winter
        if event:
            jobs *= strength
    elif service_type == "installation" and event == "heat":
        jobs *= 1 + (strength - 1) / 2  # a heat wave sells air conditioners
    return jobs


def weekly_count(rng: random.Random, expected: float) -> int:
    """A week's count around the model: a company at capacity books steadily, so less spread than
    Poisson (5 %), which keeps the forecasts' bands narrow enough to be read."""
    return max(0, round(expected * rng.gauss(1.0, 0.05)))


def capacity_hours_by_district(techs: list[Technician], slugs: list[str], *, workdays: int = 5) -> dict[str, float]:
    """Weekly technician-hours per district; a district where nobody is based gets an even share."""
    out: dict[str, float] = {}
    for tech in techs:
        slug = tech.home_district.slug
        out[slug] = out.get(slug, 0.0) + tech.shift_hours * workdays
    share = sum(out.values()) / len(slugs) if slugs else 0.0
    return {slug: out.get(slug) or share for slug in slugs}


@register_seeder("core", order=10)
def seed_core(*, rng: random.Random, stdout=None) -> str:
    districts_ensure()
    roles_ensure()
    with transaction.atomic():
        _user("admin", first="Alicja", last="Administratorska", email="admin@demo.hvac.example", staff=True,
              superuser=True, role="administrator")
        _user("manager", first="Marta", last="Kierownik", email="manager@demo.hvac.example", staff=True, role="manager")
        _user("dispatcher", first="Dorota", last="Dyspozytorska", email="dispatcher@demo.hvac.example", staff=True,
              role="dispatcher")
        districts = {d.slug: d for d in District.objects.all()}
        geoms = {slug: shape(d.geometry) for slug, d in districts.items()}
        techs = _seed_technicians(rng, districts, geoms)
        clients = _seed_clients(rng, districts, geoms)
        jobs = _seed_jobs(rng, techs)
    return f"{len(techs)} technicians, {clients} clients, {jobs} jobs"


def _seed_technicians(rng, districts, geoms) -> list[Technician]:
    techs = []
    for i, (first, last, slug) in enumerate(TECHNICIANS):
        username = "tech.mokotow" if slug == "mokotow" else f"tech.{slug}"
        user = _user(username, first=first, last=last, email=f"{username}@demo.hvac.example", role="technician")
        lat, lng = _point_in(geoms[slug], random.Random(i))
        tech, _ = Technician.objects.get_or_create(user=user, defaults={
            "phone": f"+48 601 200 {100 + i}", "skills": SKILL_SETS[i % len(SKILL_SETS)], "home_district": districts[slug],
            "shift_start": time(8, 0), "shift_end": time(16, 0) if i % 3 else time(18, 0), "max_jobs_per_day": 8,
            "start_latitude": lat, "start_longitude": lng, "on_shift": True, "last_latitude": lat,
            "last_longitude": lng, "last_accuracy_m": 15.0, "last_position_at": timezone.now()})
        techs.append(tech)
    return techs


def _seed_clients(rng, districts, geoms) -> int:
    """Clients, sites, equipment and consents in a few bulk inserts (the seed must be quick).

    The steps draw from `rng` in a fixed order, so the same seed gives the same demo data.
    """
    if Client.objects.filter(email__endswith="@demo.hvac.example").count() >= DEMO_CLIENTS:
        return DEMO_CLIENTS
    existing = set(Client.objects.filter(email__endswith="@demo.hvac.example").values_list("email", flat=True))
    plans = _client_plans(rng, districts, existing)
    Client.objects.bulk_create([p[0] for p in plans], batch_size=500)
    sites, site_plans = _site_plans(rng, plans, districts, geoms)
    Site.objects.bulk_create(sites, batch_size=500)
    Equipment.objects.bulk_create(_equipment_plans(rng, site_plans), batch_size=1000)
    Consent.objects.bulk_create(_consent_plans(plans), batch_size=1000)
    _portal_logins_add(plans)
    return DEMO_CLIENTS


def _client_plans(rng, districts, existing: set[str]) -> list[tuple]:
    """(client, business, district slug, portal login (first, last) or None, index) per new client;
    Anna and Bartek, the personas, are the first two."""
    slugs = sorted(districts)
    weights = [districts[s].weight for s in slugs]
    plans = []
    for i in range(DEMO_CLIENTS):
        female = i % 2 == 0
        first = FIRST[i % len(FIRST)] if not (i % 2) else FIRST[(i * 7) % len(FIRST)]
        if i == 0:
            first, last, email = "Anna", "Kowalska", "anna@demo.hvac.example"
        elif i == 1:
            first, last, email, female = "Bartek", "Nowak", "bartek@demo.hvac.example", False
        else:
            last = _surname(LAST[(i * 3) % len(LAST)], female)
            email = f"klient{i:03d}@demo.hvac.example"
        business = i > 1 and i % 5 == 0
        name = f"{COMPANY[i % len(COMPANY)]} {last}" if business else f"{first} {last}"
        client = Client(
            kind="business" if business else "residential", name=name, email=email,
            nip=_nip(rng) if business else "",
            phone=f"+48 {500 + i % 300} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            preferred_language="en" if i % 9 == 4 else "pl")
        slug = "mokotow" if i == 0 else rng.choices(slugs, weights)[0]
        if email not in existing:
            plans.append((client, business, slug, (first, last) if i < 2 else None, i))
    return plans


def _site_plans(rng, plans, districts, geoms) -> tuple[list[Site], list[tuple[Site, bool]]]:
    """One site per client (two for a business and for Anna), at a random point of its district."""
    sites, site_plans = [], []
    for client, business, slug, _login, i in plans:
        for s in range(2 if business or i == 0 else 1):
            lat, lng = _point_in(geoms[slug], rng)
            site = Site(client=client, label="Biuro" if business else ("Dom" if s == 0 else "Działka"),
                        street=f"ul. {rng.choice(STREETS)} {rng.randint(1, 180)}",
                        postal_code=f"0{rng.randint(0, 4)}-{rng.randint(100, 999)}",
                        latitude=lat, longitude=lng, district=districts[slug])
            sites.append(site)
            site_plans.append((site, business))
    return sites, site_plans


def _equipment_plans(rng, site_plans) -> list[Equipment]:
    """One or two units per site, with refrigerant charge and leak checks where the kind has one."""
    equipment = []
    today = date.today()
    for site, business in site_plans:
        kinds = ["split_ac", "gas_boiler", "heat_pump", "multi_split", "ventilation"] + (["chiller"] if business else [])
        for kind in rng.sample(kinds, k=rng.randint(1, 2)):
            ref, lo, hi = REFRIGERANT[kind]
            installed = today - timedelta(days=rng.randint(200, 3000))
            equipment.append(Equipment(
                site=site, kind=kind, brand=rng.choice(BRANDS[kind]), model=f"{kind[:2].upper()}-{rng.randint(100, 999)}",
                serial_number=f"SN{rng.randint(10**7, 10**8 - 1)}", refrigerant=ref,
                refrigerant_charge_kg=Decimal(str(round(rng.uniform(lo, hi), 2))) if ref else Decimal("0"),
                installed_on=installed, warranty_until=installed + timedelta(days=5 * 365),
                last_maintenance_on=today - timedelta(days=rng.randint(30, 400)),
                last_leak_check_on=today - timedelta(days=rng.randint(30, 360)) if ref else None))
    return equipment


def _consent_plans(plans) -> list[Consent]:
    consents = []
    for client, _business, _slug, _login, i in plans:
        consents.append(Consent(client=client, purpose="service_notifications", granted=True, channel="office", text_version="2026-01"))
        if i % 3 == 0:
            consents.append(Consent(client=client, purpose="marketing_email", granted=True, channel="portal", text_version="2026-01"))
    return consents


def _portal_logins_add(plans) -> None:
    for client, _business, _slug, login, _i in plans:
        if login:
            # A pseudonymous username (the access trail keeps it after an erasure); clients sign in
            # with their e-mail, which the portal's login maps to the username.
            username = "client-" + client.email.split("@", 1)[0]
            user = _user(username, first=login[0], last=login[1], email=client.email, role="client")
            client.users.add(user)


def _seed_jobs(rng, techs) -> int:
    """The last quarter's jobs at the model's volume (near capacity, with the seasons and the
    weather) and the next two weeks' bookings, each with its own composed text and resolution."""
    if ServiceJob.objects.exists():
        return ServiceJob.objects.count()
    sites = list(Site.objects.select_related("district", "client").prefetch_related("equipment"))
    by_district: dict[str, list[Site]] = {}
    for site in sites:
        by_district.setdefault(site.district.slug, []).append(site)
    techs_by_district: dict[int, list[Technician]] = {}
    for t in techs:
        techs_by_district.setdefault(t.home_district_id, []).append(t)
    capacity = capacity_hours_by_district(techs, sorted(by_district))
    texts = random.Random(rng.random())  # the texts' own stream: new phrasings leave the volume alone
    today = timezone.localdate()
    this_week = today - timedelta(days=today.weekday())
    jobs: list[ServiceJob] = []
    for offset in range(-RECENT_WEEKS, len(BOOKED_AHEAD)):
        week = this_week + timedelta(weeks=offset)
        booked = BOOKED_AHEAD[offset] if offset >= 0 else 1.0
        for slug, dsites in sorted(by_district.items()):
            district_techs = techs_by_district.get(dsites[0].district_id) or techs
            for stype in CAPACITY_SHARE:
                expected = weekly_demand(week=week, district=slug, service_type=stype, capacity_hours=capacity[slug])
                for _ in range(weekly_count(rng, expected)):
                    if booked < 1.0 and rng.random() > booked:
                        continue
                    jobs.append(_job(rng, texts, week, stype, dsites, district_techs, today))
    ServiceJob.objects.bulk_create(jobs, batch_size=2000)
    # created_at is auto_now_add, which bulk_create overwrites with now: put the history back (a
    # demo job was created when its status last changed), in one statement.
    ServiceJob.objects.filter(pk__in=[j.pk for j in jobs]).update(created_at=F("status_changed_at"))
    return len(jobs)


def _job(rng, texts, week: date, stype: str, sites: list[Site], techs: list[Technician], today: date) -> ServiceJob:
    site = rng.choice(sites)
    day = week + timedelta(days=rng.randint(0, 4))
    hour = rng.choice([8, 9, 10, 11, 12, 13, 14])
    start = datetime.combine(day, time(hour, 0), tzinfo=WARSAW)
    duration = JOB_MINUTES[stype]
    equipment = list(site.equipment.all())
    unit = rng.choice(equipment) if equipment else None
    urgency = "emergency" if stype == "repair" and rng.random() < 0.06 else ("high" if stype == "repair" and rng.random() < 0.2 else "normal")
    tech = rng.choice(techs)
    if day < today:
        status = "cancelled" if rng.random() < 0.05 else "completed"
    elif day == today:
        status = rng.choice(["scheduled", "scheduled", "en_route", "new"])
    else:
        status = rng.choice(["scheduled", "new", "new"])
    created = datetime.combine(day - timedelta(days=rng.randint(1, 10)), time(9), tzinfo=WARSAW).astimezone(UTC)
    event, _strength = weather(week)
    description, resolution = job_text(
        texts, service_type=stype, kind=unit.kind if unit else "split_ac", brand=unit.brand if unit else "",
        english=site.client.preferred_language == "en" or texts.random() < 0.3,
        season="cool" if event == "heat" or week.month in (5, 6, 7, 8, 9) else "heat")
    job = ServiceJob(
        client_id=site.client_id, site=site, equipment=unit, service_type=stype,
        urgency=urgency, priority={"emergency": 100, "high": 75}.get(urgency, 50),
        description=description, status=status,
        source=rng.choice([JobSource.PHONE, JobSource.PORTAL, JobSource.EMAIL, JobSource.MESSAGE]),
        requested_start=start, requested_end=start + timedelta(hours=4),
        scheduled_start=start if status != JobStatus.NEW else None,
        scheduled_end=start + timedelta(minutes=duration) if status != JobStatus.NEW else None,
        technician=tech if status != JobStatus.NEW else None, estimated_duration_min=duration,
        latitude=site.latitude, longitude=site.longitude, district_id=site.district_id,
        status_changed_at=created, completed_at=start + timedelta(minutes=duration) if status == "completed" else None,
        report={"work_done": resolution} if status == "completed" else {},
    )
    job.created_at = created
    return job
