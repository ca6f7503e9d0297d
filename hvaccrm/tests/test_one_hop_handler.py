"""The site's ASGI handler (hvaccrm/handler.py): each request's synchronous part in one executor
call. Driven as a server drives it: pages, the signals that return the database connection, a
streamed CSV that reads the database while it is sent, and an error page."""

from __future__ import annotations

import threading

import pytest
from django.core import signals

from hvaccrm.handler import OneHopHandler
from hvaccrm.tests.asgi_client import asgi_request

pytestmark = pytest.mark.django_db(transaction=True)


def _get(app, path: str, headers: list | None = None) -> tuple[int, dict[bytes, bytes], bytes]:
    return asgi_request(app, path, headers=headers)


def test_a_page_is_served_with_the_sites_middleware_and_each_request_started_and_finished_once(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    seen: list[tuple[str, int]] = []

    def started(**kwargs) -> None:
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs) -> None:
        seen.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        app = OneHopHandler()
        status, headers, body = _get(app, "/portal/login/")
        assert _get(app, "/portal/login/")[0] == status == 200
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert b"<form" in body
    # The full middleware list: the policy header of django-csp, the session's CSRF cookie.
    assert b"content-security-policy" in {name.lower() for name in headers}
    assert [kind for kind, _thread in seen] == ["started", "finished", "started", "finished"]
    # One request's signals in one thread (the one that ran its view), not the event loop's.
    assert seen[0][1] == seen[1][1] != threading.get_ident()


def test_a_streamed_csv_that_reads_the_database_is_sent_whole(admin_user, client, settings):
    # The F-gas register's CSV streams rows from a generator that queries as it goes.
    settings.ALLOWED_HOSTS = ["testserver"]
    client.force_login(admin_user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    status, _headers, body = _get(OneHopHandler(), "/admin/fgas-register.csv", [(b"cookie", cookie.encode())])
    assert status == 200, body[:500]
    assert body.count(b"\n") >= 1  # at least the header row


def test_an_unknown_path_answers_the_sites_404(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    assert _get(OneHopHandler(), "/no-such-page/")[0] == 404
