"""The portal speaks Polish by default and English one click away; the catalogue is complete."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PO = Path(__file__).resolve().parent.parent / "locale" / "pl" / "LC_MESSAGES" / "django.po"


def test_every_portal_string_has_a_polish_translation():
    po = polib.pofile(str(PO))
    missing = [e.msgid for e in po if not e.translated()]
    assert missing == []


def test_the_sign_in_page_is_polish_by_default_and_english_on_request(client):
    page = client.get(reverse("portal:login"))
    assert '<html lang="pl">' in page.content.decode() and "Logowanie do portalu klienta" in page.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:login")})
    english = client.get(reverse("portal:login"), headers={"accept-language": "en"})
    assert "Sign in to the client portal" in english.content.decode()
    assert settings.LANGUAGE_CODE == "pl"


def test_pages_label_every_form_field(anna_http):
    for name in ("portal:book", "portal:contact", "portal:account"):
        html = anna_http.get(reverse(name)).content.decode()


        ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html))
        labelled = set(re.findall(r'<label[^>]*\sfor="([^"]+)"', html))
        unlabelled = {i for i in ids if i not in labelled and not i.startswith("id_windows_")}
        assert unlabelled == set(), (name, unlabelled)
