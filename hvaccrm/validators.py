"""Validators for Polish identifiers and data the core stores."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)


def normalise_nip(value: str) -> str:
    """Strip the separators people type ("PL 525-000-12-34" -> "5250001234")."""
    value = (value or "").strip().upper()
    if value.startswith("PL"):
        value = value[2:]
    return re.sub(r"[\s-]", "", value)


def nip_is_valid(value: str) -> bool:
    digits = normalise_nip(value)
    if not re.fullmatch(r"\d{10}", digits):
        return False
    checksum = sum(int(d) * w for d, w in zip(digits, NIP_WEIGHTS, strict=False)) % 11
    return checksum != 10 and checksum == int(digits[9])


def validate_nip(value: str) -> None:
    if value and not nip_is_valid(value):
        raise ValidationError(_("This is not a valid Polish NIP (10 digits with a correct checksum)."), code="nip")


phone_re = re.compile(r"^\+?[0-9 ()-]{7,20}$")


def validate_phone(value: str) -> None:
    if value and not phone_re.match(value):
        raise ValidationError(_("Enter a phone number such as +48 601 234 567."), code="phone")
