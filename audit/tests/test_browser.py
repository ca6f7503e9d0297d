"""The audit dashboard in a real browser: its static script (CSP: no inline code) polls the
health JSON and redraws the rows when an integration turns red."""

from __future__ import annotations

import pytest

from hvaccrm.models import IntegrationLog

pytestmark = [pytest.mark.browser]


def test_the_dashboard_redraws_itself_when_an_integration_turns_red(live_asgi_url, browser_page, administrator):
    page = browser_page
    page.goto(live_asgi_url + "/admin/login/?next=/audit/%3Frefresh%3D1000")
    page.fill("#id_username", administrator.username)
    page.fill("#id_password", "Correct-Horse-42")
    page.click("input[type=submit]")
    page.wait_for_selector("#audit-health tr[data-key=notifications] .state-green")
    IntegrationLog.objects.bulk_create([
        IntegrationLog(source="core", target="notifications", kind="job.updated", state=state,
                       error="RuntimeError: gateway down" if state == "failed" else "")
        for state in ["failed"] * 30 + ["succeeded"] * 10
    ])
    page.wait_for_selector("#audit-health tr[data-key=notifications] .state-red", timeout=15000)
    assert "gateway down" in page.inner_text("#audit-health tr[data-key=notifications]")
    assert page.inner_text("#audit-overall") == "red"
