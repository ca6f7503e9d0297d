"""Sync of one object into the vector store: privacy filter, features, embedding, upsert.

Idempotent: the vector id is a uuid5 of the object reference, and a second call with the same
content (same hash) does nothing. Retries are the core outbox's: a failure raises, the outbox row
stays failed and is run again later.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
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


def _known_names(client_id: int | None, extra: dict, *, client_names: dict[int, str] | None = None) -> list[str]:
    names = [str(n) for n in extra.get("names", []) if n]
    if client_names is not None and client_id in client_names:
        names.append(client_names[client_id])
    elif client_id is not None:
        client = Client.objects.filter(pk=client_id).values("name", "email").first()
        if client:
            names.append(client["name"])
    return names


@dataclass
class _Prepared:
    """One object ready to be written: its filtered text, features, properties and content hash."""

    object_type: str
    object_id: str
    vector_id: object
    filtered: str
    district: str | None
    service_type: str | None
    when: datetime | None
    client_id: int | None
    properties: dict
    digest: str
    feats: object = None


def _prepare(*, object_type: str, object_id: str, text: str, district: str | None, service_type: str | None,
             created: str, client_id: int | None, extra: dict | None, provider_name: str, backend: str,
             client_names: dict[int, str] | None = None) -> _Prepared:
    extra = dict(extra or {})
    object_id = str(object_id)
    filtered = privacy_filter(text or "", known_names=_known_names(client_id, extra, client_names=client_names),
                              cell_m=conf.LOCATION_GRID_M)
    when = _created(created)
    properties = {k: extra[k] for k in _EXTRA_KEYS if extra.get(k) not in (None, "")}
    lat, lng = extra.get("latitude"), extra.get("longitude")
    if lat is not None and lng is not None:
        # Never the exact point: the centre of its grid cell (>= 500 m).
        properties["grid"] = list(coarsen_point(float(lat), float(lng), cell_m=conf.LOCATION_GRID_M))
    if isinstance(properties.get("resolution"), str):
        properties["resolution"] = privacy_filter(properties["resolution"], cell_m=conf.LOCATION_GRID_M)
    digest = hashlib.sha256(
        "\x1f".join([provider_name, backend, filtered, district or "", service_type or "",
                     when.isoformat() if when else "", str(client_id or ""), repr(sorted(properties.items()))]).encode()
    ).hexdigest()
    return _Prepared(object_type=object_type, object_id=object_id,
                     vector_id=vector_id_for(object_type=object_type, object_id=object_id), filtered=filtered,
                     district=district, service_type=service_type, when=when, client_id=client_id,
                     properties=properties, digest=digest)


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
    provider = provider_get(conf.EMBEDDING_PROVIDER)
    backend = conf.vector_store_backend()
    item = _prepare(object_type=object_type, object_id=object_id, text=text, district=district,
                    service_type=service_type, created=created, client_id=client_id, extra=extra,
                    provider_name=provider.name, backend=backend)
    state = SyncState.objects.filter(object_type=object_type, object_id=item.object_id).first()
    if state is not None and state.content_hash == item.digest and state.state == SyncState.State.SYNCED:
        return {"vector_id": str(item.vector_id), "state": "unchanged"}

    item.feats = features_extract(item.filtered)
    vector = embeddings_compute(texts=[item.filtered], provider_name=provider.name)[0]
    with transaction.atomic():
        # One transaction for the store rows (embedded backend), features and sync state: fewer
        # commits, and a failure leaves none of them half-written.
        _sync_write(items=[item], vectors=[vector], provider_name=provider.name, backend=backend,
                    attempts={item.object_id: (state.attempts + 1) if state else 1})
    # Now and again after commit: a search between the two could cache the old state.
    search_cache_invalidate()
    transaction.on_commit(search_cache_invalidate)
    return {"vector_id": str(item.vector_id), "state": "synced", "features": item.feats.as_dict()}


def sync_objects(*, objects: list[dict], batch: int = 500) -> int:
    """`sync_object` for many objects at once (the demo's seed, an import): embeddings in batches,
    one upsert and two bulk writes per batch. Objects already synced with the same content are
    skipped; returns how many were written."""
    provider = provider_get(conf.EMBEDDING_PROVIDER)
    backend = conf.vector_store_backend()
    written = 0
    for start in range(0, len(objects), batch):
        chunk = objects[start:start + batch]
        names = dict(Client.objects.filter(pk__in={o.get("client_id") for o in chunk} - {None})
                     .values_list("pk", "name"))
        items = [_prepare(**obj, provider_name=provider.name, backend=backend, client_names=names) for obj in chunk]
        states = {
            (s.object_type, s.object_id): s for s in SyncState.objects.filter(
                object_type__in={i.object_type for i in items}, object_id__in=[i.object_id for i in items])
        }
        todo = [i for i in items if not ((st := states.get((i.object_type, i.object_id))) is not None
                                         and st.content_hash == i.digest and st.state == SyncState.State.SYNCED)]
        if not todo:
            continue
        for item in todo:
            item.feats = features_extract(item.filtered)
        vectors = embeddings_compute(texts=[i.filtered for i in todo], provider_name=provider.name)
        attempts = {i.object_id: (states[(i.object_type, i.object_id)].attempts + 1)
                    if (i.object_type, i.object_id) in states else 1 for i in todo}
        with transaction.atomic():
            _sync_write(items=todo, vectors=list(vectors), provider_name=provider.name, backend=backend,
                        attempts=attempts)
        written += len(todo)
    search_cache_invalidate()
    transaction.on_commit(search_cache_invalidate)
    return written


def _sync_write(*, items: list[_Prepared], vectors: list, provider_name: str, backend: str,
                attempts: dict[str, int]) -> None:
    """The writes of a sync: the store upsert, the features rows and the sync states."""
    records = [
        VectorRecord(
            id=i.vector_id, vector=v, object_type=i.object_type, object_id=i.object_id, text=i.filtered,
            district=i.district or "", service_type=i.service_type or "", created=i.when, client_id=i.client_id,
            keywords=i.feats.keywords, properties={**i.properties, "language": i.feats.language},
        )
        for i, v in zip(items, vectors, strict=True)
    ]
    store_get().upsert(records)
    now = timezone.now()
    # One INSERT ... ON CONFLICT each (the object reference is unique) instead of a locking
    # SELECT and an UPDATE: the sync runs for every message, so round trips count.
    TextFeatures.objects.bulk_create(
        [TextFeatures(object_type=i.object_type, object_id=i.object_id, language=i.feats.language,
                      keywords=i.feats.keywords, symptoms=i.feats.symptoms, equipment=i.feats.equipment,
                      service_indicators=i.feats.service_indicators, error_codes=i.feats.error_codes,
                      text=i.filtered, district=i.district or "", service_type=i.service_type or "", created=i.when,
                      client_id=i.client_id, properties=r.properties)
         for i, r in zip(items, records, strict=True)],
        update_conflicts=True, unique_fields=["object_type", "object_id"],
        update_fields=["language", "keywords", "symptoms", "equipment", "service_indicators", "error_codes", "text",
                       "district", "service_type", "created", "client_id", "properties", "updated_at"],
    )
    SyncState.objects.bulk_create(
        [SyncState(object_type=i.object_type, object_id=i.object_id, content_hash=i.digest,
                   state=SyncState.State.SYNCED, vector_id=i.vector_id, backend=backend, provider=provider_name,
                   client_id=i.client_id, district=i.district or "", service_type=i.service_type or "",
                   synced_at=now, error="", attempts=attempts[i.object_id],
                   embedding=np.asarray(v, dtype=np.float32).tobytes())
         for i, v in zip(items, vectors, strict=True)],
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
    """Embed every stored (filtered) text again, read its keywords again, and upsert it in batches
    into the current store."""
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
        # Keywords again from the filtered text: a vocabulary change must reach the stored rows.
        stale = []
        for r in chunk:
            keywords = features_extract(r.text).keywords
            if list(r.keywords) != list(keywords):
                r.keywords = keywords
                stale.append(r)
        TextFeatures.objects.bulk_update(stale, ["keywords"])
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
