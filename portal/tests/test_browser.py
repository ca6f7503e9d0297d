"""End to end in Debian's headless chromium against a real ASGI server (HTTP + WebSockets):
sign in with a link, book, cancel, message the office live, live ETA, logout, wrong password.
Each page is kept as a screenshot in test-artifacts/."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from conftest import browser_login
from hvaccrm.models import ServiceJob
from hvaccrm.services import job_eta_set
from portal import services
from portal.tests.factories import scheduled_job

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# A request's integration work runs eagerly inside the daphne process (route re-planning, vector
# sync on a booking or a message), so a click can take longer than Playwright's default here.
SLOW = 90_000


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def test_a_client_signs_in_with_a_link_books_a_visit_cancels_it_and_signs_out(live_asgi_url, browser_page, anna_user, client_anna):
    page = browser_page
    page.set_default_timeout(SLOW)
    _, token = services.login_link_create(user=anna_user)  # what the e-mail carries (e-mail itself: test_access)
    page.goto(f"{live_asgi_url}/portal/login/link/{token}/")
    shot(page, "01-link-confirm")
    page.click("#link-confirm")
    page.wait_for_url(f"{live_asgi_url}/portal/")
    assert "Anna Kowalska" in page.inner_text("h1")
    shot(page, "02-dashboard")

    page.click("text=Umów wizytę >> nth=0")
    page.wait_for_url("**/portal/book/")
    page.fill("#id_description", "Coroczny przegląd klimatyzacji")
    assert page.is_hidden("#gas-warning")
    page.locator("input[name=windows]").last.check()  # the latest window: well before the cut-off
    shot(page, "03-book")
    page.click("#book-submit")
    page.wait_for_url("**/portal/book/*/done/")
    shot(page, "04-booked")
    job = ServiceJob.objects.get(client=client_anna)
    assert job.source == "portal" and job.requested_start is not None

    page.click("text=Zobacz wizytę")
    page.wait_for_url(f"**/portal/visits/{job.pk}/")
    shot(page, "05-visit")
    page.click("#cancel-visit")
    page.wait_for_url(f"**/portal/visits/{job.pk}/")
    assert "odwołana" in page.inner_text(".messages")
    shot(page, "06-cancelled")
    job.refresh_from_db()
    assert job.status == "cancelled"

    page.click("header button:has-text('Wyloguj')")
    page.wait_for_url("**/portal/login/")
    shot(page, "07-signed-out")
    page.goto(f"{live_asgi_url}/portal/")
    page.wait_for_url("**/portal/login/**")
    # the link was used: it never works again
    page.goto(f"{live_asgi_url}/portal/login/link/{token}/")
    assert "nie działa" in page.inner_text("h1")


def test_a_gas_smell_shows_the_safety_instruction_while_typing(live_asgi_url, browser_page, anna_user, client_anna):
    page = browser_page
    page.set_default_timeout(SLOW)
    browser_login(page, live_asgi_url, anna_user.username)
    page.goto(f"{live_asgi_url}/portal/book/")
    page.fill("#id_description", "W kuchni czuć gaz")
    page.wait_for_selector("#gas-warning", state="visible")
    assert "992" in page.inner_text("#gas-warning") and "112" in page.inner_text("#gas-warning")
    shot(page, "08-gas-warning")


def test_a_wrong_password_is_shown_as_an_error(live_asgi_url, browser_page, anna_user):
    page = browser_page
    page.set_default_timeout(SLOW)
    browser_login(page, live_asgi_url, "anna@example.com", password="not-her-password")
    page.wait_for_selector(".error[role=alert]")
    assert "Błędny adres e-mail lub hasło" in page.inner_text(".error[role=alert]")
    shot(page, "09-wrong-password")


def test_a_portal_message_reaches_the_office_inbox_live_and_the_reply_comes_back(
        live_asgi_url, browser_page, anna_user, client_anna, dispatcher):
    from communications import services as comms

    conversation = comms.conversation_start(author=anna_user, client_id=client_anna.pk)
    comms.message_send(author=anna_user, conversation_id=conversation.pk, body="Dzień dobry")
    client_page = browser_page
    client_page.set_default_timeout(SLOW)
    browser_login(client_page, live_asgi_url, anna_user.username)
    client_page.goto(f"{live_asgi_url}/portal/messages/")
    client_page.wait_for_selector("#thread[data-subscribed='1']")

    office = client_page.context.browser.new_context(locale="pl-PL").new_page()
    office.set_default_timeout(SLOW)
    office.goto(f"{live_asgi_url}/admin/login/?next=/communications/inbox/{conversation.pk}/")
    office.fill("#id_username", dispatcher.username)
    office.fill("#id_password", "Correct-Horse-42")
    office.click("input[type=submit]")
    office.wait_for_url(f"**/communications/inbox/{conversation.pk}/")
    office.wait_for_selector("#comms-conversation[data-live='1']")

    client_page.fill("#id_body", "Czy technik może przyjść po 16?")
    client_page.click("#message-send")
    office.wait_for_selector("#comms-thread >> text=Czy technik może przyjść po 16?")  # no reload in the office
    shot(office, "10-office-inbox")
    assert client_page.url.endswith("/portal/messages/")  # sent over the socket, no page load

    office.fill("#comms-reply textarea", "Tak, zapisaliśmy 16-20.")
    office.click("#comms-reply button.default")
    client_page.wait_for_selector("#thread >> text=Tak, zapisaliśmy 16-20.")  # the reply arrives live
    shot(client_page, "11-messages")
    office.context.close()


def test_todays_visit_shows_the_technician_and_a_live_eta(live_asgi_url, browser_page, anna_user, client_anna,
                                                           technician_mokotow, settings):
    # The daphne subprocess reads CHANNEL_PREFIX from the environment the root conftest sets; this
    # process loaded its settings before that, so align the prefix for its group_send to reach it.
    layers = {**settings.CHANNEL_LAYERS}
    layers["default"] = {**layers["default"], "CONFIG": {**layers["default"]["CONFIG"],
                                                         "prefix": os.environ.get("CHANNEL_PREFIX", "asgi")}}
    settings.CHANNEL_LAYERS = layers
    technician_mokotow.user.first_name, technician_mokotow.user.last_name = "Tomasz", "Wiśniewski"
    technician_mokotow.user.save()
    now = timezone.localtime()
    start = max(now - timedelta(minutes=5), now.replace(hour=0, minute=0, second=0, microsecond=0))  # today
    job = scheduled_job(client=client_anna, technician=technician_mokotow, start=start, hours=1)
    page = browser_page
    page.set_default_timeout(SLOW)
    browser_login(page, live_asgi_url, anna_user.username)
    page.wait_for_selector("html[data-live='1']")
    card = page.locator(f".live-visit[data-job='{job.pk}']")
    assert "Tomasz Wiśniewski" in card.inner_text()
    eta = now + timedelta(minutes=17)
    # What mapping does; `job.updated` reaches the open page. In a thread of its own: Playwright's
    # sync API keeps an event loop in this one, where the channel layer's async_to_sync cannot run.
    errors: list[str] = []

    def push() -> None:
        try:
            job_eta_set(job=job, eta=eta)
        except Exception as exc:  # reported below: the assertion must say why no event came
            errors.append(repr(exc))
        finally:
            connection.close()

    worker = threading.Thread(target=push)
    worker.start()
    worker.join()
    assert errors == []
    label = timezone.localtime(eta).strftime("%H:%M")
    page.wait_for_selector(f".live-visit[data-job='{job.pk}'] [data-field=eta_label]:has-text('{label}')")
    shot(page, "12-live-eta")
