"""The demo history that behaves like a company: thousands of distinct texts in both languages
(kept apart from the retrieval evaluation corpus), volume near capacity with the seasons and the
weather, older history as weekly counts, and the batch sync that embeds only those texts."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest

from hvaccrm.seed_core import CAPACITY_SHARE, JOB_MINUTES, weather, weekly_demand
from hvaccrm.seed_texts import job_text
from hvaccrm.tests.factories import ServiceJobFactory, district
from hvaccrm.text import text_fold
from prophecy.engine.evaluate import RETRIEVAL_CORPUS
from prophecy.engine.vocabulary import concepts_of
from prophecy.models import JobWeekCount, SyncState, TextFeatures
from prophecy.services import sync_objects
from prophecy.services.forecast import job_history_weekly


def _texts(n: int) -> list[tuple[str, str]]:
    rng = random.Random(7)
    kinds = ["split_ac", "multi_split", "heat_pump", "gas_boiler", "ventilation", "chiller"]
    return [job_text(rng, service_type=rng.choice(["repair", "repair", "maintenance", "installation", "inspection"]),
                     kind=rng.choice(kinds), brand=rng.choice(["Daikin", "LG", "Vaillant", "Junkers", "Panasonic"]),
                     english=i % 3 == 0, season=rng.choice(["cool", "heat"])) for i in range(n)]


def test_the_demo_composes_thousands_of_distinct_texts_and_resolutions_in_both_languages():
    texts = _texts(3000)
    assert len({t for t, _ in texts}) >= 2000 and len({r for _, r in texts}) >= 2000
    english = [t for i, (t, _) in enumerate(texts) if i % 3 == 0]
    assert any("leak" in t or "drip" in t for t in english) and any("cieknie" in t for t, _ in texts)
    assert not any("Wykonano zgodnie ze zleceniem" in r for _, r in texts)


def test_no_demo_text_is_a_sentence_of_the_retrieval_evaluation_corpus():
    cases = json.loads(RETRIEVAL_CORPUS.read_text(encoding="utf-8"))["cases"]
    corpus = {text_fold(c["text"]).strip(" .") for c in cases}
    for text, resolution in _texts(3000):
        for sentence in (text + " " + resolution).split(". "):
            assert text_fold(sentence).strip(" .") not in corpus


def test_demand_is_near_capacity_and_peaks_in_heat_waves_and_frost():
    capacity = 40.0

    def load(week: date, slug: str) -> float:
        return sum(weekly_demand(week=week, district=slug, service_type=s, capacity_hours=capacity) * JOB_MINUTES[s]
                   for s in CAPACITY_SHARE) / 60 / capacity

    weeks = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(52)]
    mean = sum(load(w, "ochota") for w in weeks) / len(weeks)
    assert 0.5 < mean < 0.9
    heat = [w for w in weeks if weather(w)[0] == "heat"]
    calm_summer = [w for w in weeks if w.month in (6, 7, 8) and not weather(w)[0]]
    assert heat and calm_summer
    assert min(load(w, "srodmiescie") for w in heat) > max(load(w, "srodmiescie") for w in calm_summer) * 0.95
    january = date(2025, 1, 13)
    assert load(january, "wawer") > 1.2 * load(january, "ochota")  # houses on boilers feel the frost


@pytest.mark.django_db
def test_the_forecast_history_adds_the_weekly_counts_to_the_job_rows():
    monday = date.today() - timedelta(days=date.today().weekday())
    old = monday - timedelta(weeks=30)
    JobWeekCount.objects.create(district=district("wola"), service_type="repair", week_start=old, jobs=17)
    ServiceJobFactory(district=district("wola"), service_type="repair", status="completed")
    weeks, series, _hours = job_history_weekly(until=monday + timedelta(weeks=2))
    assert weeks[0] == old and series[("wola", "repair")][0] == 17


@pytest.mark.django_db
def test_a_batch_sync_embeds_each_text_once_and_a_repeat_writes_nothing():
    objects = [{"object_type": "hvaccrm.servicejob", "object_id": str(i), "text": text, "district": "wola",
                "service_type": "repair", "created": "2026-01-05T10:00:00+01:00", "client_id": None,
                "extra": {"resolution": resolution}} for i, (text, resolution) in enumerate(_texts(30))]
    assert sync_objects(objects=objects, batch=16) == 30
    assert SyncState.objects.filter(state="synced").count() == 30 and TextFeatures.objects.count() == 30
    assert sync_objects(objects=objects, batch=16) == 0


def test_the_vocabulary_reads_phrases_before_words():
    assert "heatmode" not in concepts_of("heat pump humming at night")
    assert "nocooling" not in concepts_of("no hot water from the boiler")
    assert "leak" not in concepts_of("brak ciepłej wody")
    assert "nopower" not in concepts_of("z klimatyzacji czuć stęchliznę po włączeniu")
    assert "radiator" not in concepts_of("kod błędu na klimie")
    assert {"heatpump", "ice"} <= set(concepts_of("the heat pump froze up"))
