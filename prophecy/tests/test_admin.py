from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from prophecy import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["syncstate", "textfeatures", "storedvector", "prediction", "backtestresult"])
def test_each_prophecy_changelist_renders_with_a_bounded_number_of_queries(client, administrator, model):
    for i in range(5):
        services.sync_object(object_type="communications.message", object_id=str(i), text=f"Kocioł błąd E{i}",
                             district="wola", service_type="repair", created="2026-01-01T10:00:00+01:00",
                             client_id=None)
    client.force_login(administrator)
    url = reverse(f"admin:prophecy_{model}_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url)
    assert page.status_code == 200
    assert len(ctx.captured_queries) <= 15
