from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from hvaccrm.models import IntegrationLog
from hvaccrm.tests.factories import TechnicianFactory, district
from prophecy import selectors, services
from prophecy.models import BacktestResult, Prediction, StoredVector, SyncState, TextFeatures
from prophecy.stores import VectorStoreUnavailable, store_get, vector_id_for

pytestmark = pytest.mark.django_db


def _sync(object_id="1", text="Z jednostki wewnętrznej kapie woda, tel. 600 100 200", client_id=None, **kw):
    values = {"object_type": "communications.message", "object_id": object_id, "text": text,
              "district": "mokotow", "service_type": "repair", "created": "2026-02-01T09:00:00+01:00",
              "client_id": client_id}
    values.update(kw)
    return services.sync_object(**values)


def test_syncing_the_same_object_twice_stores_one_vector_and_the_second_call_is_a_no_op():
    first = _sync()
    second = _sync()
    assert first["state"] == "synced" and second["state"] == "unchanged"
    assert first["vector_id"] == second["vector_id"] == str(vector_id_for(object_type="communications.message",
                                                                            object_id="1"))
    assert StoredVector.objects.count() == 1 and SyncState.objects.get().attempts == 1
    kept = np.frombuffer(bytes(SyncState.objects.get().embedding), dtype=np.float32)
    assert np.allclose(kept, np.frombuffer(bytes(StoredVector.objects.get().vector), dtype=np.float32))
    assert selectors.vector_exists(object_type="communications.message", object_id="1")


def test_a_changed_text_replaces_the_vector_under_the_same_id():
    _sync()
    again = _sync(text="Klimatyzator hałasuje")
    assert again["state"] == "synced"
    assert StoredVector.objects.count() == 1
    assert StoredVector.objects.get().text == "Klimatyzator hałasuje"


def test_only_the_privacy_filtered_text_reaches_the_store_and_features(client_anna):
    _sync(text="Anna Kowalska, ul. Puławska 12, anna@example.com: kocioł pokazuje błąd F28",
          client_id=client_anna.pk, extra={"latitude": 52.19301, "longitude": 21.02502, "equipment": "Vaillant"})
    row = StoredVector.objects.get()
    for secret in ("Anna", "Kowalska", "Puławska", "anna@example.com"):
        assert secret not in row.text
    assert row.properties["grid"] != [52.19301, 21.02502]
    features = TextFeatures.objects.get()
    assert features.error_codes == ["F28"] and "gas_boiler" in features.equipment
    assert "Anna" not in features.text


def test_erasing_a_client_removes_their_vectors_and_features_only(client_anna, client_bartek):
    _sync(object_id="1", client_id=client_anna.pk)
    _sync(object_id="2", client_id=client_anna.pk, text="hałas z jednostki")
    _sync(object_id="3", client_id=client_bartek.pk)
    assert services.vectors_erase_for_client(client_id=client_anna.pk) == 2
    assert not selectors.vector_exists(object_type="communications.message", object_id="1")
    assert selectors.vector_exists(object_type="communications.message", object_id="3")
    assert not TextFeatures.objects.filter(client_id=client_anna.pk).exists()
    assert set(SyncState.objects.filter(client_id=client_anna.pk).values_list("state", flat=True)) == {"erased"}
    assert not SyncState.objects.filter(client_id=client_anna.pk, embedding__isnull=False).exists()
    results = selectors.search_similar(query="kapie woda", limit=10)["results"]
    assert {r["object_id"] for r in results} == {"3"}


def test_search_finds_polish_text_for_an_english_query_and_caches_the_answer():
    _sync(object_id="1", text="Z jednostki wewnętrznej klimatyzatora kapie woda na podłogę")
    _sync(object_id="2", text="Kocioł gazowy pokazuje błąd F28", service_type="maintenance")
    first = selectors.search_similar(query="water leaking from the indoor unit", limit=2)
    assert first["source"] == "vector" and first["results"][0]["object_id"] == "1"
    assert selectors.search_similar(query="water leaking from the indoor unit", limit=2)["source"] == "cache"
    # A new upsert invalidates the cached answer.
    _sync(object_id="3", text="Woda cieknie ze splitu w sypialni")
    assert selectors.search_similar(query="water leaking from the indoor unit", limit=2)["source"] == "vector"


def test_when_the_store_is_down_search_answers_from_cache_then_from_keywords():
    _sync(object_id="1", text="Z jednostki wewnętrznej kapie woda")
    _sync(object_id="2", text="Pompa ciepła zamarza, lód na agregacie")
    warm = selectors.search_similar(query="pompa ciepła lód", limit=2)
    assert warm["source"] == "vector"
    _sync(object_id="3", text="Hałas z jednostki zewnętrznej")  # invalidates the fresh cache
    store_get().available = False
    try:
        assert not selectors.vector_store_healthy()
        cached = selectors.search_similar(query="pompa ciepła lód", limit=2)
        assert cached["source"] == "cache" and cached["degraded"] is True
        kw = selectors.search_similar(query="zamarza pompa", limit=2)
        assert kw["source"] == "keyword" and kw["degraded"] is True
        assert kw["results"][0]["object_id"] == "2"
        with pytest.raises(VectorStoreUnavailable):
            _sync(object_id="4", text="nowa wiadomość")
    finally:
        store_get().available = True


def _history(weeks: int = 60, per_week: int = 12, slug: str = "wilanow", service: str = "installation"):
    """`per_week` four-hour jobs in each of the past `weeks` weeks (one site, bulk-created)."""
    from hvaccrm.models import ServiceJob
    from hvaccrm.tests.factories import SiteFactory

    site = SiteFactory(district=district(slug))
    now = timezone.now()
    jobs = [ServiceJob(client=site.client, site=site, service_type=service, district=site.district,
                       estimated_duration_min=240, description="montaż")
            for _ in range(weeks * per_week)]
    ServiceJob.objects.bulk_create(jobs)
    for i, job in enumerate(jobs):
        job.created_at = now - timedelta(weeks=1 + i // per_week)
    ServiceJob.objects.bulk_update(jobs, ["created_at"])


def test_a_hotspot_raises_one_alert_and_a_second_run_raises_none():
    TechnicianFactory(home_district=district("wilanow"))  # 23.98 h x 5 days of capacity
    _history(weeks=30, per_week=30)
    result = services.forecast_run()
    assert result["status"] == "ok" and result["alerts"] >= 1
    hot = Prediction.objects.filter(is_hotspot=True)
    assert hot.exists() and all(p.predicted_demand >= 0.8 and p.confidence >= 0.75 for p in hot)
    alerts = IntegrationLog.objects.filter(source="prophecy", target="notifications", kind="prophecy.alert")
    assert alerts.count() == result["alerts"]
    payload = alerts.first().payload
    assert payload["district"] == "Wilanów" and payload["district_slug"] == "wilanow"
    assert payload["serviceTypes"] == ["installation"]
    assert {"prediction", "predictedDemand", "confidence", "week_start"} <= set(payload)
    again = services.forecast_run()
    assert again["alerts"] == 0
    assert alerts.count() == result["alerts"]
    assert Prediction.objects.count() == 4  # one per week, updated in place
    assert BacktestResult.objects.filter(district__isnull=True).count() <= 2


def test_too_little_history_skips_the_forecast():
    assert services.forecast_run()["status"] == "skipped"


def test_reindex_rebuilds_the_store_from_our_filtered_texts():
    _sync(object_id="1")
    _sync(object_id="2", text="Hałas z jednostki zewnętrznej")
    StoredVector.objects.all().delete()
    assert services.vectors_reindex() == 2
    assert StoredVector.objects.count() == 2
    assert selectors.search_similar(query="noisy outdoor unit", limit=1)["results"][0]["object_id"] == "2"


def test_reindex_reads_the_keywords_again_so_a_vocabulary_change_reaches_the_store():
    _sync(object_id="1", text="Leci tylko letnia woda z kranu")
    TextFeatures.objects.update(keywords=["woda", "hvleak"])  # as an older vocabulary stored them
    services.vectors_reindex()
    assert "hvleak" not in TextFeatures.objects.get().keywords
    assert "hvhotwater" in StoredVector.objects.get().keywords


def test_a_district_without_technicians_gets_an_even_share_of_the_city_capacity():
    from prophecy.services.forecast import district_capacity_hours

    TechnicianFactory(home_district=district("wilanow"))
    capacity = district_capacity_hours()
    assert capacity["wilanow"] == pytest.approx(capacity["wola"] * 18)
    assert capacity["wola"] > 0


def test_the_beat_task_and_the_command_run_the_forecast_and_print_the_table():
    from io import StringIO

    from django.core.management import call_command

    from prophecy import tasks

    TechnicianFactory(home_district=district("wilanow"))
    _history(weeks=20, per_week=5)
    assert tasks.forecast_run.delay().get()["status"] == "ok"
    out = StringIO()
    call_command("forecast", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("status=ok") and "district" in lines[1] and "demand" in lines[1]
    assert any(line.startswith("Wilanów") and "installation" in line for line in lines[2:])
