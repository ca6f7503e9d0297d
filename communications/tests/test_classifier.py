"""The classifier without Django: inflections, both languages, safety instruction, the labelled set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from communications.classifier import classify

LABELLED = Path(__file__).parent / "data" / "labelled_messages.tsv"


def labelled() -> list[tuple[str, str, str]]:
    rows = []
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            urgency, language, text = line.split("\t")
            rows.append((urgency, language, text))
    return rows


def precision_recall(rows) -> tuple[float, float]:
    tp = fp = fn = 0
    for urgency, _language, text in rows:
        got = classify(text).urgency == "emergency"
        want = urgency == "emergency"
        tp += got and want
        fp += got and not want
        fn += want and not got
    return tp / (tp + fp), tp / (tp + fn)


def test_the_labelled_set_has_at_least_150_messages_in_both_languages():
    rows = labelled()
    assert len(rows) >= 150
    assert {lang for _u, lang, _t in rows} == {"pl", "en"}
    assert min(sum(1 for u, _l, _t in rows if u == level) for level in ("normal", "high", "emergency")) >= 30


def test_emergency_precision_and_recall_meet_the_goals_on_the_labelled_set():
    precision, recall = precision_recall(labelled())
    assert recall >= 0.97 and precision >= 0.9


def test_the_language_is_detected_on_the_labelled_set():
    rows = labelled()
    right = sum(classify(text).language == lang for _u, lang, text in rows)
    assert right / len(rows) >= 0.97


def test_the_issue_example_is_an_emergency_repair_of_an_air_conditioner():
    result = classify("Awaria klimatyzacji w biurze na Mokotowie, leje się woda z jednostki")
    assert result.urgency == "emergency"
    assert result.service_types[0] == "repair" and result.equipment == "split_ac" and result.language == "pl"


@pytest.mark.parametrize("text", ["Awaria pieca", "awarii kotła nie usunięto", "zgłaszam awarię klimatyzatora",
                                  "z awarią pompy ciepła"])
def test_inflected_forms_of_awaria_are_failures(text):
    assert classify(text).urgency == "high" and "repair" in classify(text).service_types


@pytest.mark.parametrize("text,equipment", [("nie grzeje kocioł", "gas_boiler"), ("brak ogrzewania, pompa ciepła", "heat_pump"),
                                            ("no heating from the boiler", "gas_boiler"), ("AC failure", "split_ac"),
                                            ("wyciek z rekuperatora", "ventilation"), ("water leaking from the chiller", "chiller")])
def test_loss_of_service_is_high_and_the_equipment_is_recognised(text, equipment):
    result = classify(text)
    assert result.urgency == "high" and result.equipment == equipment


def test_an_error_code_is_a_repair():
    result = classify("Kocioł pokazuje kod F28")
    assert result.urgency == "high" and any("error code" in reason for reason in result.reasons)


@pytest.mark.parametrize("text,language", [("Czuć gaz w piwnicy", "pl"), ("I can smell gas in the hallway", "en"),
                                           ("Czujnik czadu piszczy", "pl"), ("The carbon monoxide alarm went off", "en")])
def test_gas_or_co_is_an_emergency_with_the_safety_instruction_in_the_writers_language(text, language):
    result = classify(text)
    assert result.urgency == "emergency" and result.language == language
    assert "112" in result.safety_instruction and "992" in result.safety_instruction


def test_a_negated_gas_smell_is_not_an_emergency():
    assert classify("Po wizycie nie czuć już gazu, dziękujemy").urgency == "normal"


def test_the_command_prints_exactly_the_issues_json(capsys):
    from django.core.management import call_command

    call_command("classify", "Czuć gaz w kuchni")
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"urgency", "service_types", "equipment", "language", "reasons", "confidence"}
    assert data["urgency"] == "emergency" and 0 <= data["confidence"] <= 1
