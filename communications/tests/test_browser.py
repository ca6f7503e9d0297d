"""The office inbox in a real headless browser: a client's message appears live, a reply goes out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from communications import services
from communications.models import Message
from communications.tests.factories import ConversationFactory

pytestmark = [pytest.mark.browser]


@pytest.fixture
def no_outbox_publish(monkeypatch, settings):
    """The integration work (embeddings, routing) is not what this page test measures; the rows stay
    pending in this process and in the daphne subprocess (which reads the environment)."""
    monkeypatch.setenv("OUTBOX_PUBLISH_ON_COMMIT", "false")
    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    # The settings of this process were read before the root conftest set CHANNEL_PREFIX, so the
    # daphne subprocess must be told the prefix actually in use, or its groups never hear our sends.
    monkeypatch.setenv("CHANNEL_PREFIX", settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"])


def _in_thread(fn, **kwargs):
    """Playwright's sync API keeps an event loop in this thread; the push after commit (async_to_sync)
    needs a thread without one, as a real request or socket handler has."""
    from django.db import connection

    def run():
        try:
            return fn(**kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def _office_opens(page, base_url: str, user, conv) -> None:
    """Sign in to the admin and open the conversation until its socket is live."""
    page.goto(f"{base_url}/admin/login/?next=/communications/inbox/{conv.pk}/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "Correct-Horse-42")
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"**/communications/inbox/{conv.pk}/")
    page.wait_for_selector('#comms-conversation[data-live="1"]')


def test_a_clients_message_appears_in_the_open_conversation_without_reload_and_the_office_replies(
        no_outbox_publish, live_asgi_url, browser_page, dispatcher, client_anna, anna_user):
    conv = ConversationFactory(client=client_anna, subject="Klimatyzacja")
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text))
    _office_opens(page, live_asgi_url, dispatcher, conv)

    message = _in_thread(services.message_send, author=anna_user, conversation_id=conv.pk,
                         body="Klima nie chłodzi od rana")
    page.wait_for_selector(f'#comms-thread [data-message="{message.pk}"]')
    assert "Klima nie chłodzi od rana" in page.inner_text("#comms-thread")

    page.fill("#comms-reply textarea", "Technik będzie o 14:00")
    page.click("#comms-reply button.default")
    page.wait_for_selector("#comms-thread li.comms-staff")
    assert page.input_value("#comms-reply textarea") == ""  # sent over the socket, no reload
    assert Message.objects.filter(conversation=conv, author=dispatcher, body="Technik będzie o 14:00").exists()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_the_inbox_stays_open_across_a_forced_disconnect_and_shows_what_was_sent_meanwhile(
        no_outbox_publish, live_asgi_url, browser_page, dispatcher, client_anna, anna_user):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from hvaccrm.realtime import groups

    conv = ConversationFactory(client=client_anna, subject="Pompa ciepła")
    page = browser_page
    _office_opens(page, live_asgi_url, dispatcher, conv)
    page.evaluate("window.__sameDocument = true")

    # The server drops the socket; while the page waits to reconnect, the client writes twice.
    _in_thread(lambda: async_to_sync(get_channel_layer().group_send)(
        groups.user_group(dispatcher.pk), {"type": "realtime.close", "code": 4000}))
    page.wait_for_selector('#comms-conversation[data-live="0"]')
    sent = [_in_thread(services.message_send, author=anna_user, conversation_id=conv.pk, body=body)
            for body in ("Czy technik już jedzie?", "Halo?")]

    page.wait_for_selector('#comms-conversation[data-live="1"]')
    for message in sent:
        page.wait_for_selector(f'#comms-thread [data-message="{message.pk}"]')
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert page.inner_text("[data-live-status]") == "na żywo"
