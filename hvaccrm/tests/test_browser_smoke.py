from __future__ import annotations

import pytest

from conftest import browser_login

pytestmark = [pytest.mark.browser]


def test_a_client_signs_in_through_the_portal_in_a_real_browser(live_asgi_url, browser_page, anna_user, tmp_path):
    browser_login(browser_page, live_asgi_url, "anna@example.com")
    browser_page.wait_for_selector("text=Anna Kowalska")
    assert "/portal/" in browser_page.url
    browser_page.screenshot(path=str(tmp_path / "portal-home.png"))


def test_a_wrong_password_is_shown_as_an_error(live_asgi_url, browser_page, anna_user):
    browser_login(browser_page, live_asgi_url, "anna@example.com", password="wrong-password-1")
    alert = browser_page.wait_for_selector("[role=alert]")
    assert alert.inner_text().strip()
