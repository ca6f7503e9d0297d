"""Prophecy's reads: vector presence and health, semantic search (with its cache and fallbacks),
predictions for the dashboard and the hotspot layer."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from hvaccrm import metrics
from hvaccrm.models import District, JobFeedback, ServiceJob
from hvaccrm.text import text_fold
from prophecy import conf
from prophecy.engine.features import lemmas
from prophecy.engine.lexical import query_terms
from prophecy.models import BacktestResult, Prediction, SyncState, TextFeatures
from prophecy.services.sync import SEARCH_GENERATION_KEY, embeddings_compute
from prophecy.stores import SearchFilters, VectorStoreUnavailable, store_get, vector_id_for

logger = logging.getLogger(__name__)

SOURCES = ("vector", "hybrid", "keyword", "cache")


def vector_exists(*, object_type: str, object_id: str) -> bool | None:
    """Whether the object's vector is in the store (asks the store itself, not our sync table);
    None when the store cannot answer (down): "unknown" must not read as "missing", or a repair
    during an outage would re-queue every synced object."""
    try:
        return store_get().exists(vector_id_for(object_type=object_type, object_id=str(object_id)))
    except VectorStoreUnavailable:
        return None


def vector_store_healthy() -> bool:
    try:
        return bool(store_get().health())
    except Exception:  # a backend that cannot even be built is not healthy
        logger.warning("vector store health check failed", exc_info=True)
        return False


def _district_names() -> dict[str, str]:
    return dict(District.objects.values_list("slug", "name"))


def _enrich(results: list[dict]) -> list[dict]:
    """Equipment and how it was resolved, from the core rows the hits refer to (staff only)."""
    job_ids = [int(r["object_id"]) for r in results if r["object_type"] == "hvaccrm.servicejob"
               and str(r["object_id"]).isdigit()]
    feedback_ids = [int(r["object_id"]) for r in results if r["object_type"] == "hvaccrm.jobfeedback"
                    and str(r["object_id"]).isdigit()]
    jobs = {j.pk: j for j in ServiceJob.objects.filter(pk__in=job_ids).select_related("equipment")}
    feedback = {f.pk: f for f in JobFeedback.objects.filter(pk__in=feedback_ids).select_related("job__equipment")}
    names = _district_names()
    for r in results:
        r["district_name"] = names.get(r["district"], r["district"])
        job = None
        if r["object_type"] == "hvaccrm.servicejob":
            job = jobs.get(int(r["object_id"])) if str(r["object_id"]).isdigit() else None
        elif r["object_type"] == "hvaccrm.jobfeedback":
            fb = feedback.get(int(r["object_id"])) if str(r["object_id"]).isdigit() else None
            job = fb.job if fb else None
        if job is not None:
            report = job.report or {}
            r["equipment"] = r.get("equipment") or (str(job.equipment) if job.equipment_id else "")
            r["resolution"] = r.get("resolution") or report.get("resolution") or report.get("summary") or report.get("work_done") or ""
            r["status"] = job.status
        r.setdefault("equipment", "")
        r.setdefault("resolution", "")
    return results


def _hit_dict(*, object_type: str, object_id: str, score: float, text: str, district: str, service_type: str,
              created: datetime | None, properties: dict) -> dict:
    return {
        "id": f"{object_type}:{object_id}", "object_type": object_type, "object_id": object_id,
        "score": round(float(score), 4), "text": text, "district": district or "", "service_type": service_type or "",
        "created": created.isoformat() if created else None,
        "equipment": properties.get("equipment") or "", "resolution": properties.get("resolution") or "",
    }


def keyword_search(*, query: str, limit: int = 10, filters: SearchFilters | None = None) -> list[dict]:
    """Search by lemma overlap in PostgreSQL (our own copy of the filtered texts): the fallback
    when the vector store is down."""
    terms = list(dict.fromkeys([*lemmas(query), *query_terms(query)]))
    if not terms:
        return []
    f = filters or SearchFilters()
    qs = TextFeatures.objects.filter(keywords__overlap=terms)
    if f.district:
        qs = qs.filter(district=f.district)
    if f.service_type:
        qs = qs.filter(service_type=f.service_type)
    if f.created_from:
        qs = qs.filter(created__gte=f.created_from)
    if f.created_to:
        qs = qs.filter(created__lte=f.created_to)
    scored = []
    for row in qs.order_by("-created")[:2000]:
        score = len(set(terms).intersection(row.keywords)) / len(terms)
        scored.append((score, row))
    scored.sort(key=lambda x: (-x[0], -(x[1].created.timestamp() if x[1].created else 0)))
    return [
        _hit_dict(object_type=r.object_type, object_id=r.object_id, score=s, text=r.text, district=r.district,
                  service_type=r.service_type, created=r.created, properties=r.properties)
        for s, r in scored[:limit]
    ]


def _cache_keys(query: str, limit: int, filters: SearchFilters, mode: str) -> tuple[str, str]:
    raw = json.dumps([query.strip().lower(), limit, filters.district, filters.service_type,
                      filters.created_from.isoformat() if filters.created_from else None,
                      filters.created_to.isoformat() if filters.created_to else None, mode])
    digest = hashlib.sha256(raw.encode()).hexdigest()[:32]
    generation = cache.get(SEARCH_GENERATION_KEY) or 0
    # The fresh key moves with every upsert; the "last good" key survives it and serves answers
    # while the store is down.
    return f"prophecy:search:{generation}:{digest}", f"prophecy:search:last:{digest}"


QUERY_MAX_CHARS = 500
_NOISE = re.compile(r"[\d\W_]+", re.UNICODE)


def _dedupe_key(text: str) -> str:
    """Texts that differ only in case, diacritics, digits or punctuation are one case."""
    return _NOISE.sub(" ", text_fold(text or "")).strip()


def _collapse(results: list[dict], *, limit: int) -> list[dict]:
    """Near-duplicates as one hit (the best ranked) with how many it stands for."""
    groups: dict[str, dict] = {}
    for r in results:
        key = _dedupe_key(r["text"])
        if key in groups:
            groups[key]["duplicates"] += 1
            continue
        groups[key] = {**r, "duplicates": 1}
    return list(groups.values())[:limit]


@metrics.search_observed(backend=conf.vector_store_backend)
def search_similar(
    *,
    query: str,
    limit: int = 10,
    district: str | None = None,
    service_type: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    mode: str = "vector",
) -> dict:
    """{"query", "source": vector|hybrid|keyword|cache, "degraded": bool, "results": [...],
    "notice": why the answer is empty or cut, or ""}. The one entry point of search.

    `hybrid` (what the page and the API ask for by default) fuses the vector ranking with BM25 over lemmas and the bilingual
    vocabulary's concept tokens; near-duplicate texts come back as one hit with `duplicates`.
    Answers are cached for five minutes and invalidated by any upsert; when the store is down the
    last good answer for the same query, else keyword search, is given, and `source` says which.
    """
    query, notice = _query_trim(query)
    limit = max(1, min(int(limit), 100))
    filters = SearchFilters(district=district or None, service_type=service_type or None,
                            created_from=created_from, created_to=created_to)
    refusal = _query_refusal(query, district=district)
    if refusal:
        return {"query": query, "source": "keyword", "degraded": False, "results": [], "notice": refusal}
    fresh_key, last_key = _cache_keys(query, limit, filters, mode)
    cached = cache.get(fresh_key)
    if cached is not None:
        return {**cached, "query": query, "source": "cache", "degraded": False, "notice": notice}
    degraded = False
    try:
        store = store_get()
        vector = embeddings_compute(texts=[query])[0]
        hybrid = mode == "hybrid" and store.supports_hybrid
        # Three times the page: room for the near-duplicates that collapse into one hit.
        hits = store.search(vector, limit=limit * 3, filters=filters, query_text=query if hybrid else None,
                            alpha=conf.HYBRID_ALPHA)
        results = [
            _hit_dict(object_type=h.object_type, object_id=h.object_id, score=h.score, text=h.text,
                      district=h.district, service_type=h.service_type, created=h.created, properties=h.properties)
            for h in hits
        ]
        source = "hybrid" if hybrid else "vector"
    except (VectorStoreUnavailable, ConnectionError, TimeoutError) as exc:
        logger.warning("vector search failed, falling back: %s", exc)
        degraded = True
        last = cache.get(last_key)
        if last is not None:
            return {**last, "query": query, "source": "cache", "degraded": True, "notice": notice}
        results, source = keyword_search(query=query, limit=limit * 3, filters=filters), "keyword"
    answer = {"query": query, "source": source, "degraded": degraded,
              "results": _enrich(_collapse(results, limit=limit))}
    if not degraded:
        cache.set(fresh_key, answer, timeout=conf.SEARCH_CACHE_SECONDS)
        cache.set(last_key, answer, timeout=24 * 3600)
    return {**answer, "notice": notice}


def _query_trim(query: str) -> tuple[str, str]:
    """The query stripped and cut at a word to QUERY_MAX_CHARS, with the notice "truncated" if cut."""
    query = (query or "").strip()
    if len(query) > QUERY_MAX_CHARS:
        return query[:QUERY_MAX_CHARS].rsplit(" ", 1)[0] or query[:QUERY_MAX_CHARS], "truncated"
    return query, ""


def _query_refusal(query: str, *, district: str | None) -> str:
    """Why a query gets no search at all ("empty", "stop_words", "unknown_district"), or ""."""
    if not query:
        return "empty"
    if not query_terms(query) and not any(ch.isdigit() for ch in query):
        # Only stop words (or punctuation): nothing to look for, and the embedding of "the and
        # of" would rank the store at random.
        return "stop_words"
    if district and not District.objects.filter(slug=district).exists():
        return "unknown_district"
    return ""


def search_output(answer: dict) -> dict:
    """The documented JSON shape (the command prints exactly this)."""
    return {
        "query": answer["query"], "source": answer["source"],
        "results": [{"id": r["id"], "score": r["score"], "text": r["text"], "district": r["district"],
                     "created": r["created"]} for r in answer["results"]],
    }


# --- forecasts -----------------------------------------------------------------------------------
def prediction_list_upcoming(*, today=None) -> list[Prediction]:
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return list(Prediction.objects.filter(week_start__gte=monday).select_related("district")
                .order_by("district__name", "service_type", "week_start"))


def dashboard_data(*, today=None) -> dict:
    """Per district: its predictions by service type and week (for the small charts), hotspots,
    the latest backtest and the sync state counts."""
    preds = prediction_list_upcoming(today=today)
    by_district: dict[str, dict] = {}
    for p in preds:
        entry = by_district.setdefault(p.district.slug, {"name": p.district.name, "slug": p.district.slug,
                                                         "series": defaultdict(list), "hot": False, "max": 0.0})
        entry["series"][p.service_type].append(p)
        entry["hot"] = entry["hot"] or p.is_hotspot
        entry["max"] = max(entry["max"], p.predicted_demand)
    districts = []
    for entry in sorted(by_district.values(), key=lambda e: (-e["max"], e["name"])):
        entry["series"] = dict(entry["series"])
        districts.append(entry)
    latest = BacktestResult.objects.filter(district__isnull=True).first()
    states = dict(SyncState.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {"districts": districts, "backtest": latest, "sync_states": states,
            "hotspots": [p for p in preds if p.is_hotspot]}


def hotspots_geojson(*, today=None) -> dict:
    """The districts of the coming weeks' forecast as GeoJSON features (the dispatch map's shading):
    `weekDemand` is this week's predicted job-hours of all service types over the district's
    capacity (capped at 1); `predictedDemand`, `serviceTypes` and `weeks` name its hotspots (or,
    without one, its most demanding prediction this week)."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    grouped: dict[int, list[Prediction]] = defaultdict(list)
    for p in prediction_list_upcoming(today=today):
        grouped[p.district_id].append(p)
    features = []
    for preds in grouped.values():
        district = preds[0].district
        this_week = [p for p in preds if p.week_start == monday]
        hot = [p for p in preds if p.is_hotspot]
        named = hot or this_week
        if not named:
            continue
        top = max(named, key=lambda p: p.predicted_demand)
        job_hours = sum(p.job_hours for p in this_week)
        capacity = this_week[0].capacity_hours if this_week else 0.0
        features.append({
            "type": "Feature",
            "geometry": district.geometry or None,
            "properties": {
                "district": district.name, "district_slug": district.slug,
                "predictedDemand": top.predicted_demand, "confidence": top.confidence, "hotspot": bool(hot),
                "serviceTypes": sorted({p.service_type for p in named}),
                "weeks": sorted({p.week_start.isoformat() for p in named}), "prediction": top.pk,
                "weekDemand": round(min(1.0, job_hours / capacity), 3) if capacity else None,
                "weekJobHours": round(job_hours, 1), "capacityHours": capacity,
                "url": reverse("prophecy:district", args=[district.slug]),
            },
        })
    return {"type": "FeatureCollection", "features": features}


def alert_links(*, district: District, service_types: list[str]) -> dict[str, str]:
    """Where an alert leads: its district's chart page and the jobs behind it (the admin's list of
    the district's jobs of the alert's first service type)."""
    query = urlencode({"district__id__exact": district.pk, **({"service_type__exact": service_types[0]}
                                                              if service_types else {})})
    return {"chart_url": reverse("prophecy:district", args=[district.slug]),
            "jobs_url": f"{reverse('admin:hvaccrm_servicejob_changelist')}?{query}"}


def alerts_recent(*, today=None, limit: int = 20) -> list[dict]:
    """The hotspot alerts raised for this week and later, newest first, one per district and week
    (as the outbox raised them), each with its links."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    grouped: dict[tuple[int, object], list[Prediction]] = defaultdict(list)
    for p in (Prediction.objects.filter(alerted_at__isnull=False, week_start__gte=monday)
              .select_related("district").order_by("-alerted_at", "-predicted_demand")):
        grouped[(p.district_id, p.week_start)].append(p)
    alerts = []
    for preds in grouped.values():
        top = max(preds, key=lambda p: p.predicted_demand)
        types = [p.service_type for p in sorted(preds, key=lambda p: -p.predicted_demand)]
        alerts.append({
            "prediction": top.pk, "district": top.district.name, "district_slug": top.district.slug,
            "week_start": top.week_start, "predictedDemand": top.predicted_demand, "confidence": top.confidence,
            "serviceTypes": types, "alerted_at": max(p.alerted_at for p in preds),
            **alert_links(district=top.district, service_types=types),
        })
    alerts.sort(key=lambda a: a["alerted_at"], reverse=True)
    return alerts[:limit]


HISTORY_WEEKS = 104


def district_forecast_detail(*, slug: str, today=None) -> dict | None:
    """One district's page: per service type two years of weekly job counts, the coming weeks'
    predictions and the series' latest backtest; its capacity against predicted job-hours per
    week. None for an unknown district."""
    from prophecy.services.forecast import job_history_weekly

    district = District.objects.filter(slug=slug).first()
    if district is None:
        return None
    today = today or timezone.localdate()
    weeks, series, _hours = job_history_weekly(until=today)
    weeks = weeks[-HISTORY_WEEKS:]
    upcoming = [p for p in prediction_list_upcoming(today=today) if p.district_id == district.pk]
    backtests: dict[str, BacktestResult] = {}
    for b in BacktestResult.objects.filter(district=district).order_by("-run_at", "-id"):
        backtests.setdefault(b.service_type, b)
    services = sorted({s for (d, s) in series if d == slug} | {p.service_type for p in upcoming})
    rows = []
    for service in services:
        counts = series.get((slug, service))
        rows.append({
            "service_type": service,
            "counts": [float(c) for c in counts[-len(weeks):]] if counts is not None and weeks else [0.0] * len(weeks),
            "predictions": [p for p in upcoming if p.service_type == service],
            "backtest": backtests.get(service),
        })
    by_week: dict = defaultdict(lambda: {"job_hours": 0.0, "capacity": 0.0})
    for p in upcoming:
        by_week[p.week_start]["job_hours"] += p.job_hours
        by_week[p.week_start]["capacity"] = p.capacity_hours
    capacity = [{"week_start": w, **v, "gap": round(v["job_hours"] - v["capacity"], 1)}
                for w, v in sorted(by_week.items())]
    return {"district": district, "weeks": weeks, "rows": rows, "capacity": capacity}
