"""Sync of one object into the vector store: privacy filter, features, embedding, upsert.

Idempotent: the vector id is a uuid5 of the object reference, and a second call with the same
content (same hash) does nothing. Retries are the core outbox's: a failure raises, the outbox row
stays failed and is run again later.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hvaccrm import metrics
from hvaccrm.models import Client
from prophecy import conf
from prophecy.engine.embeddings import provider_get
from prophecy.engine.features import features_extract
from prophecy.engine.privacy import coarsen_point, privacy_filter
from prophecy.models import SyncState, TextFeatures
from prophecy.stores import VectorRecord, store_get, vector_id_for

logger = logging.getLogger(__name__)

SEARCH_GENERATION_KEY = "prophecy:search:generation"
# Extra keys that may travel with a text into the store's properties (never personal data).
_EXTRA_KEYS = ("equipment", "resolution", "status", "urgency", "language", "job", "conversation", "rating")


def search_cache_invalidate() -> None:
    """Every upsert or erasure moves the search cache's generation, so old answers are not used."""
    try:
        cache.incr(SEARCH_GENERATION_KEY)
    except ValueError:
        cache.set(SEARCH_GENERATION_KEY, 1, timeout=None)


def embeddings_compute(*, texts: list[str], provider_name: str | None = None) -> np.ndarray:
    """Embeddings by content hash through the cache (one hour); only misses are computed."""
    provider = provider_get(provider_name or conf.EMBEDDING_PROVIDER)
    keys = [f"prophecy:emb:{provider.name}:{hashlib.sha256(t.encode()).hexdigest()}" for t in texts]
    found = cache.get_many(keys) if keys else {}
    missing = [i for i, k in enumerate(keys) if k not in found]
    metrics.cache_lookup(cache="embeddings", hits=len(keys) - len(missing), misses=len(missing))
    out = np.zeros((len(texts), provider.dim), dtype=np.float32)
    if missing:
        with metrics.embedding_timer(provider=provider.name, texts=len(missing)):
            fresh = provider.embed([texts[i] for i in missing])
        cache.set_many({keys[i]: fresh[j].tobytes() for j, i in enumerate(missing)},
                       timeout=conf.EMBEDDING_CACHE_SECONDS)
        for j, i in enumerate(missing):
            out[i] = fresh[j]
    for i, key in enumerate(keys):
        if key in found:
            out[i] = np.frombuffer(found[key], dtype=np.float32)
    return out


def _created(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _known_names(client_id: int | None, extra: dict) -> list[str]:
    names = [str(n) for n in extra.get("names", []) if n]
    if client_id is not None:
        client = Client.objects.filter(pk=client_id).values("name", "email").first()
        if client:
            names.append(client["name"])
    return names


def sync_object(
    *,
    object_type: str,
    object_id: str,
    text: str,
    district: str | None,
    service_type: str | None,
    created: str,
    client_id: int | None,
    extra: dict | None = None,
) -> dict:
    """Features + privacy filter + embedding + upsert of one object; a repeat is a no-op."""
    extra = dict(extra or {})
    object_id = str(object_id)
    provider = provider_get(conf.EMBEDDING_PROVIDER)
    backend = conf.vector_store_backend()
    filtered = privacy_filter(text or "", known_names=_known_names(client_id, extra), cell_m=conf.LOCATION_GRID_M)
    when = _created(created)
    properties = {k: extra[k] for k in _EXTRA_KEYS if extra.get(k) not in (None, "")}
    lat, lng = extra.get("latitude"), extra.get("longitude")
    if lat is not None and lng is not None:
        # Never the exact point: the centre of its grid cell (>= 500 m).
        properties["grid"] = list(coarsen_point(float(lat), float(lng), cell_m=conf.LOCATION_GRID_M))
    if isinstance(properties.get("resolution"), str):
        properties["resolution"] = privacy_filter(properties["resolution"], cell_m=conf.LOCATION_GRID_M)
    vector_id = vector_id_for(object_type=object_type, object_id=object_id)
    digest = hashlib.sha256(
        "\x1f".join([provider.name, backend, filtered, district or "", service_type or "",
                     when.isoformat() if when else "", str(client_id or ""), repr(sorted(properties.items()))]).encode()
    ).hexdigest()

    state = SyncState.objects.filter(object_type=object_type, object_id=object_id).first()
    if state is not None and state.content_hash == digest and state.state == SyncState.State.SYNCED:
        return {"vector_id": str(vector_id), "state": "unchanged"}

    feats = features_extract(filtered)
    vector = embeddings_compute(texts=[filtered], provider_name=provider.name)[0]
    with transaction.atomic():
        # One transaction for the store rows (embedded backend), features and sync state: fewer
        # commits, and a failure leaves none of them half-written.
        _sync_write(object_type=object_type, object_id=object_id, vector_id=vector_id, vector=vector,
                    filtered=filtered, district=district, service_type=service_type, when=when,
                    client_id=client_id, feats=feats, properties=properties, provider_name=provider.name,
                    backend=backend, digest=digest, state=state)
    # Now and again after commit: a search between the two could cache the old state.
    search_cache_invalidate()
    transaction.on_commit(search_cache_invalidate)
    return {"vector_id": str(vector_id), "state": "synced", "features": feats.as_dict()}


def _sync_write(*, object_type, object_id, vector_id, vector, filtered, district, service_type, when, client_id,
                feats, properties, provider_name, backend, digest, state) -> None:
    """The writes of one sync: the store upsert, the features row and the sync state."""
    record = VectorRecord(
        id=vector_id, vector=vector, object_type=object_type, object_id=object_id, text=filtered,
        district=district or "", service_type=service_type or "", created=when, client_id=client_id,
        keywords=feats.keywords, properties={**properties, "language": feats.language},
    )
    store_get().upsert([record])
    now = timezone.now()
    # One INSERT ... ON CONFLICT each (the object reference is unique) instead of a locking
    # SELECT and an UPDATE: the sync runs for every message, so round trips count.
    TextFeatures.objects.bulk_create(
        [TextFeatures(object_type=object_type, object_id=object_id, language=feats.language, keywords=feats.keywords,
                      symptoms=feats.symptoms, equipment=feats.equipment, service_indicators=feats.service_indicators,
                      error_codes=feats.error_codes, text=filtered, district=district or "",
                      service_type=service_type or "", created=when, client_id=client_id,
                      properties=record.properties)],
        update_conflicts=True, unique_fields=["object_type", "object_id"],
        update_fields=["language", "keywords", "symptoms", "equipment", "service_indicators", "error_codes", "text",
                       "district", "service_type", "created", "client_id", "properties", "updated_at"],
    )
    SyncState.objects.bulk_create(
        [SyncState(object_type=object_type, object_id=object_id, content_hash=digest, state=SyncState.State.SYNCED,
                   vector_id=vector_id, backend=backend, provider=provider_name, client_id=client_id,
                   district=district or "", service_type=service_type or "", synced_at=now, error="",
                   attempts=(state.attempts + 1) if state else 1,
                   embedding=np.asarray(vector, dtype=np.float32).tobytes())],
        update_conflicts=True, unique_fields=["object_type", "object_id"],
        update_fields=["content_hash", "state", "vector_id", "backend", "provider", "client_id", "district",
                       "service_type", "synced_at", "error", "attempts", "embedding", "updated_at"],
    )


def vectors_erase_for_client(*, client_id: int) -> int:
    """Erase every vector, feature row and stored text of one client (RODO); returns how many."""
    erased = store_get().delete_for_client(client_id)
    with transaction.atomic():
        TextFeatures.objects.filter(client_id=client_id).delete()
        touched = SyncState.objects.filter(client_id=client_id).update(
            state=SyncState.State.ERASED, content_hash="", error="", embedding=None, updated_at=timezone.now()
        )
    search_cache_invalidate()
    transaction.on_commit(search_cache_invalidate)
    logger.info("erased %s vectors of client %s (%s sync rows)", erased, client_id, touched)
    return max(erased, touched)


def vectors_reindex(*, batch: int = 500) -> int:
    """Embed every stored (filtered) text again and upsert it in batches into the current store."""
    provider = provider_get(conf.EMBEDDING_PROVIDER)
    store = store_get()
    done = 0
    rows = TextFeatures.objects.order_by("id")
    last_id = 0
    while True:
        chunk = list(rows.filter(id__gt=last_id)[:batch])
        if not chunk:
            break
        last_id = chunk[-1].id
        # Reuse the embeddings kept with the sync state when they came from the same provider.
        kept = {
            (ot, oid): np.frombuffer(bytes(emb), dtype=np.float32)
            for ot, oid, emb in SyncState.objects.filter(
                provider=provider.name, embedding__isnull=False, object_id__in=[r.object_id for r in chunk],
            ).values_list("object_type", "object_id", "embedding")
        }
        todo = [r for r in chunk if (r.object_type, r.object_id) not in kept]
        fresh = embeddings_compute(texts=[r.text for r in todo], provider_name=provider.name) if todo else []
        kept.update({(r.object_type, r.object_id): v for r, v in zip(todo, fresh, strict=True)})
        vectors = [kept[(r.object_type, r.object_id)] for r in chunk]
        store.upsert([
            VectorRecord(id=vector_id_for(object_type=r.object_type, object_id=r.object_id), vector=v,
                         object_type=r.object_type, object_id=r.object_id, text=r.text, district=r.district,
                         service_type=r.service_type, created=r.created, client_id=r.client_id,
                         keywords=list(r.keywords), properties=r.properties)
            for r, v in zip(chunk, vectors, strict=True)
        ])
        SyncState.objects.filter(object_type__in={r.object_type for r in chunk},
                                 object_id__in=[r.object_id for r in chunk]).update(
            provider=provider.name, backend=conf.vector_store_backend(), content_hash="", synced_at=timezone.now())
        done += len(chunk)
    search_cache_invalidate()
    return done


def sync_state_forget(*, object_type: str, object_id: str) -> int:
    """Forget that an object was synced, so its next `sync_object` writes it again (used by audit's
    repair when the store lost a vector). Objects erased on a client's request stay erased."""
    return SyncState.objects.filter(object_type=object_type, object_id=str(object_id)).exclude(state="erased").update(
        content_hash="")
