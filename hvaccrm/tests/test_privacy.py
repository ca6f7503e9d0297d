"""Personal data has an owner: every model that refers to a client or a user, or holds a field of the
personal-data list, is exported and erased by some app's privacy module (or exempt, with a reason)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

from hvaccrm.models import Client
from hvaccrm.privacy import EXEMPT, PERSONAL_FIELD_NAMES, PERSONAL_FIELD_SUFFIXES, privacy_modules


def _why_personal(model: type[models.Model]) -> list[str]:
    """The fields that make a model hold personal data (empty when none does)."""
    people = (Client, get_user_model())
    reasons = []
    for f in [*model._meta.local_fields, *model._meta.local_many_to_many]:
        if f.is_relation and f.related_model in people:
            reasons.append(f"{f.name} -> {f.related_model._meta.label}")
        elif (f.name in PERSONAL_FIELD_NAMES or f.name.endswith(PERSONAL_FIELD_SUFFIXES)) and not f.choices:
            reasons.append(f.name)  # a field with choices holds a code, not what a person wrote
    return reasons


def _labels(kind: str) -> set[str]:
    found: set[str] = set()
    for module in privacy_modules():
        found |= set(module.covers) if kind == "covers" else set(module.retains)
    return found


def test_every_model_with_personal_data_is_exported_and_erased_by_an_app_or_exempt_with_a_reason():
    handled = _labels("covers") | _labels("retains") | set(EXEMPT)
    orphans = {
        model._meta.label: _why_personal(model)
        for model in apps.get_models()
        if _why_personal(model) and model._meta.label not in handled
    }
    assert orphans == {}, (
        "These models hold personal data but no app's privacy.py covers them; add them to the covers "
        "(or retains) of the app that owns them, or to hvaccrm.privacy.EXEMPT with the reason"
    )


def test_the_registry_and_its_exemptions_name_real_models_once():
    covered, retained, exempt = _labels("covers"), _labels("retains"), set(EXEMPT)
    for label in covered | retained | exempt:
        apps.get_model(label)  # LookupError on a renamed or removed model
    assert not (covered & exempt) and not (retained & exempt) and not (covered & retained)
    assert all(reason.strip() for reason in EXEMPT.values())
    assert all(reason.strip() for m in privacy_modules() for reason in m.retains.values())


def test_each_app_that_holds_personal_data_registers_its_privacy_module_in_the_documented_order():
    assert [m.name for m in privacy_modules()] == ["communications", "prophecy", "mapping", "audit", "techapp", "portal", "core"]
