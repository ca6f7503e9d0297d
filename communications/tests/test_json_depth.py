"""Hostile input the API must refuse with a 400, never a 500 (issue 20)."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from communications.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def test_json_nested_5000_deep_is_refused_with_a_400(anna_user, client_anna):
    conv = ConversationFactory(client=client_anna)
    body = json.dumps({"conversation": conv.pk, "body": "x", "extra": 0}).replace("0}", "[" * 5000 + "]" * 5000 + "}")
    r = _api(anna_user).post("/api/communications/messages/", body, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "parse_error"


def test_ordinary_nested_json_is_still_read(anna_user, client_anna):
    conv = ConversationFactory(client=client_anna)
    body = json.dumps({"conversation": conv.pk, "body": "Nie chłodzi ]]]] {{", "extra": [[[{"a": ["]]]]"]}]]]})
    r = _api(anna_user).post("/api/communications/messages/", body, content_type="application/json")
    assert r.status_code == 201, r.content
