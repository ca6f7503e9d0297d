"""The authorisation matrix, generated from the URL configuration: every route (API, portal, app
pages, the admin), with client Anna's and her technician's object ids filled in, called by another
client (Bartek), a technician of another district and an anonymous visitor, by GET and by POST.

Each answer is a refusal (401/403/404/405) or a redirect to a login page, never a 5xx, and carries
none of Anna's data (name, e-mail, phone, address, message text) - a list page of one's own may
answer 200, but without her rows. A route the matrix cannot fill in fails the test, so a new view
cannot ship without being looked at here; public routes are allow-listed, each with its reason.
"""

from __future__ import annotations

import datetime
import re
import time

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.cache import cache
from django.test import Client as HttpClient
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from hvaccrm.tests.factories import EquipmentFactory, ServiceJobFactory, TechnicianFactory, district

# Anna's data as it would show in a page or a JSON body (ASCII, so no escaping hides it).
ANNA_PHONE = "+48 511 222 333"
ANNA_STREET = "ul. Bachmacka 77"
ANNA_MESSAGE = "Prosze o szybka wizyte ZX-4711"
NEEDLES = ("Kowalska", "anna@example.com", "511 222 333", "511222333", "Bachmacka 77", "ZX-4711", "ZX-4712")

# Routes anyone may open without signing in, with the reason. Everything else must refuse an
# anonymous visitor or send them to a login page.
PUBLIC = {
    "home": "the landing page: it sends each role to its own start page",
    "healthz": "the load balancer's probe, no data (503 when a check fails: its answer, not a crash)",
    "admin:login": "the office's sign-in form",
    "admin:logout": "signing out has nothing to protect",
    "portal:retention": "the public retention policy: what is kept after an erasure and why, no personal data",
    "set_language": "the language switch (a cookie), no data",
    "javascript-catalog": "the translation catalogue for scripts, no data",
    "schema": "the OpenAPI description of the API, no data",
    "knox_login": "the API's sign-in (credentials in, token out)",
    "portal:login": "the portal's sign-in form",
    "portal:link_request": "asks for a sign-in link by e-mail; answers the same whether the address exists",
    "portal:link_login": "the signed sign-in link is itself the credential (an unknown token is refused)",
    "portal:logout": "signing out has nothing to protect",
    "portal:password_reset": "asks for a reset e-mail; answers the same whether the address exists",
    "portal:password_reset_done": "a static confirmation page",
    "portal:password_reset_confirm": "the signed reset link is itself the credential",
    "portal:password_reset_complete": "a static confirmation page",
    "portal:maintenance_move": "the signed move link e-mailed to the client is itself the credential",
    "techapp:manifest": "the PWA manifest the browser fetches before sign-in",
    "techapp:sw": "the service worker script, no data",
    "communications:inbound-sms": "the SMS gateway's webhook, checked by its signature",
    "communications:inbound-sms-provider": "the SMS gateway's webhook, checked by its signature",
    "communications:inbound-telegram": "Telegram's webhook, checked by its secret token",
    "communications:inbound-email": "the mail relay's webhook, checked by its signature",
    "metrics": "Prometheus scraping: a staff session or METRICS_TOKEN, otherwise refused",
    "audit:metrics": "Prometheus scraping: a staff session or METRICS_TOKEN, otherwise refused",
}

# Parameters that are not one of the owner's objects: the value used, and why it is safe to vary.
FIXED_KWARGS = {
    "provider": "generic",  # the SMS provider's slug of a public webhook
    "target": "prophecy",  # an integration switch's name (staff only)
    "slug": "mokotow",  # a district's slug: the district pages are staff only
    "key": "none",  # a sent e-mail's key in the development mail viewer (staff only)
    "token": "not-a-valid-token",  # signed-link routes are public; an unknown token is refused
    "uidb64": "MQ",
    "app_label": "hvaccrm",
    "rest": "report/",  # the old /audit/... addresses, redirected into the admin
}

DENIED = {401, 403, 404, 405}
LOGIN_REDIRECT = re.compile(r"/(login|accounts/login|admin/login)")


def _routes(patterns=None, prefix: str = "", ns: str | None = None):
    """(route name, regex of the whole path, parameter names) of every URL pattern, the admin's too."""
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        regex = prefix + p.pattern.regex.pattern.lstrip("^").rstrip("$").replace(r"\Z", "")
        if isinstance(p, URLResolver):
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else p.namespace or ns
            yield from _routes(p.url_patterns, regex, inner)
        else:
            name = (f"{ns}:{p.name}" if ns else p.name) if p.name else f"<unnamed {regex}>"
            params = set(re.compile(regex).groupindex)
            if "format" not in params:  # DRF's .json twins of the same view
                yield name, regex, params


def _fill(regex: str, values: dict) -> str:
    """The path of a route's regex with its named groups replaced by the values."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), regex)
    return "/" + path.replace("\\", "")


@pytest.fixture
def owner(client_anna, technician_mokotow):
    """Anna's objects, one of each kind a URL can name, and her technician's job."""
    client_anna.phone = ANNA_PHONE
    client_anna.save(update_fields=["phone"])
    site = client_anna.sites.get()
    site.street = ANNA_STREET
    site.save(update_fields=["street"])
    user = client_anna.users.get()
    unit = EquipmentFactory(site=site, serial_number="ANNA-SN-ZX")
    start = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
    job = ServiceJobFactory(site=site, client=client_anna, status="scheduled", technician=technician_mokotow,
                            scheduled_start=start, scheduled_end=start + datetime.timedelta(hours=2),
                            description="Nie grzeje ZX-4712")
    agreement = apps.get_model("hvaccrm", "Agreement").objects.create(
        client=client_anna, price=300, starts_on=datetime.date.today(),
        ends_on=datetime.date.today() + datetime.timedelta(days=365))
    agreement.sites.add(site)
    agreement.equipment.add(unit)
    conversation = apps.get_model("communications", "Conversation").objects.create(
        client=client_anna, subject="Nie grzeje ZX-4712", channel="portal", job=job)
    message = apps.get_model("communications", "Message").objects.create(
        conversation=conversation, author=user, author_role="client", body=ANNA_MESSAGE, language="pl")
    notification = apps.get_model("communications", "Notification").objects.create(
        recipient=user, kind="job.scheduled", title="Wizyta ZX-4712", body=ANNA_MESSAGE)
    delivery = apps.get_model("communications", "Delivery").objects.create(
        notification=notification, channel="email", address="anna@example.com")
    alert = apps.get_model("communications", "EmergencyAlert").objects.create(
        message=message, job=job, district=district("mokotow"), text=ANNA_MESSAGE,
        dedupe_key="proof-zx", escalate_at=timezone.now() + datetime.timedelta(hours=1))
    proposal = apps.get_model("mapping", "SlotProposal").objects.create(
        job=job, technician=technician_mokotow, start=start, end=start + datetime.timedelta(hours=2))
    return {"job": job, "site": site, "proposal": proposal, "unit": unit, "agreement": agreement, "conversation": conversation,
            "message": message, "notification": notification, "delivery": delivery, "alert": alert,
            "client": client_anna, "user": user}


# For a `pk`, the object it names depends on the route.
PK_BY_ROUTE = {
    "job-detail": "job",
    "communications-api:conversation-detail": "conversation",
    "communications-api:message-detail": "message",
    "communications-api:message-read": "message",
    "communications-api:alert-accept": "alert",
    "communications-api:alert-decline": "alert",
    "communications-api:notification-detail": "notification",
    "communications-api:notification-ack": "notification",
    "communications-api:notification-read": "notification",
    "communications-api:delivery-detail": "delivery",
    "communications-api:delivery-retry": "delivery",
    "communications:conversation": "conversation",
    "portal-api:site-detail": "site",
    "portal-api:visit-detail": "job",
}
# Every other parameter naming an owner's object, by its name.
OWNER_KWARGS = {"job_id": "job", "site_id": "site", "equipment_id": "unit", "agreement_id": "agreement",
                "client_id": "client", "proposal_id": "proposal"}


def _admin_object_id(regex: str, owned: dict) -> object:
    """The admin's object_id: Anna's object of that model when she has one, else any row."""
    m = re.match(r"admin/(\w+)/(\w+)/", regex)
    model = apps.get_model(m.group(1), m.group(2)) if m else None
    for obj in owned.values():
        if model is not None and isinstance(obj, model):
            return obj.pk
    row = model._default_manager.order_by("pk").first() if model is not None else None
    return row.pk if row is not None else 1


def _plan(owned: dict):
    """(route name, path, addresses an owner's object) of every route; names the matrix cannot fill."""
    plan, unknown = [], []
    for name, regex, params in _routes():
        values, own = {}, False
        for param in params:
            if param == "pk" and name in PK_BY_ROUTE:
                values[param], own = owned[PK_BY_ROUTE[name]].pk, True
            elif param in OWNER_KWARGS:
                values[param], own = owned[OWNER_KWARGS[param]].pk, True
            elif param in ("object_id", "id", "pk") and regex.startswith("admin/"):
                values[param], own = _admin_object_id(regex, owned), True
            elif param in FIXED_KWARGS:
                values[param] = FIXED_KWARGS[param]
            elif param == "url" and regex.startswith("admin/"):
                values[param] = "nowhere/"  # the admin's catch-all
            elif param in ("content_type_id",):
                values[param] = 1
            else:
                unknown.append((name, param))
                break
        else:
            plan.append((name, _fill(regex, values), own))
    return plan, unknown


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303) and bool(LOGIN_REDIRECT.search(response.get("Location", "")))


def test_no_route_lets_another_client_another_district_or_a_stranger_reach_annas_data(owner, client_bartek):
    wola = TechnicianFactory(home_district=district("wola"))
    identities = {"anonymous": HttpClient(), "client Bartek": HttpClient(), "technician of Wola": HttpClient()}
    identities["client Bartek"].force_login(client_bartek.users.get())
    identities["technician of Wola"].force_login(wola.user)
    plan, unknown = _plan(owner)
    assert not unknown, f"routes whose parameters the matrix cannot fill in (add them to its tables): {unknown}"
    assert len(plan) > 150, "the walk of the URL configuration found too few routes"
    job_state = (owner["job"].status, owner["job"].technician_id, owner["job"].scheduled_start)

    defects, requests = [], 0
    started = time.monotonic()
    for name, path, own in plan:
        for who, http in identities.items():
            for method in ("get", "post"):
                cache.clear()  # throttles would answer 429 and hide the real answer
                response = getattr(http, method)(path)
                hops = 0
                while (response.status_code in (301, 302, 303, 307, 308) and not _is_login_redirect(response)
                       and response["Location"].startswith("/") and hops < 3):
                    # A moved address: what counts is where it leads (followed by GET, as a browser does).
                    response, hops = http.get(response["Location"]), hops + 1
                requests += 1
                status = response.status_code
                body = b"" if getattr(response, "streaming", False) else response.content
                text = body.decode("utf-8", "replace")
                leaked = [n for n in NEEDLES if n in text]
                if status >= 500 and not (name == "healthz" and status == 503):
                    defects.append((who, method, path, status, "server error"))
                elif leaked:
                    defects.append((who, method, path, status, f"shows Anna's {leaked}"))
                elif own and name not in PUBLIC and not (status in DENIED or _is_login_redirect(response)):
                    defects.append((who, method, path, status, "answers for Anna's object"))
                elif (who == "anonymous" and name not in PUBLIC
                      and not (status in DENIED or _is_login_redirect(response))):
                    defects.append((who, method, path, status, "answers a stranger"))
    elapsed = time.monotonic() - started
    print(f"\nauthz matrix: {len(plan)} routes x {len(identities)} identities x GET/POST = {requests} requests "
          f"in {elapsed:.1f} s, {len(defects)} defects")
    assert not defects, "\n".join(map(str, defects))
    owner["job"].refresh_from_db()
    assert (owner["job"].status, owner["job"].technician_id, owner["job"].scheduled_start) == job_state
    assert owner["conversation"].messages.count() == 1


def test_the_matrix_covers_the_admin_of_every_registered_model(owner):
    plan, _ = _plan(owner)
    paths = {path for _, path, _ in plan}
    for model in admin.site._registry:
        opts = model._meta
        assert f"/admin/{opts.app_label}/{opts.model_name}/" in paths, opts.label


def test_the_owner_herself_sees_her_data_so_the_needles_would_catch_a_leak(owner):
    http = HttpClient()
    http.force_login(owner["user"])
    for path in (f"/portal/visits/{owner['job'].pk}/", "/portal/messages/", "/portal/account/"):
        text = http.get(path).content.decode()
        assert any(n in text for n in NEEDLES), path
