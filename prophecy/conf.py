"""Prophecy's own knobs, read once from the environment (django-environ), with safe defaults."""

from __future__ import annotations

import environ
from django.conf import settings

env = environ.Env()

# Which embedding provider turns text into vectors (see engine/embeddings.py and docs/prophecy.md
# for the measured retrieval quality that chose the default).
EMBEDDING_PROVIDER: str = env.str("PROPHECY_EMBEDDING_PROVIDER", default="use+hashgram")
# How long an embedding is kept in the Django cache, by content hash (seconds).
EMBEDDING_CACHE_SECONDS: int = env.int("PROPHECY_EMBEDDING_CACHE_SECONDS", default=3600)
# How long a search answer is cached (seconds); every upsert invalidates it earlier.
SEARCH_CACHE_SECONDS: int = env.int("PROPHECY_SEARCH_CACHE_SECONDS", default=300)
# Weaviate's hybrid: weight of the vector ranking against its BM25 ranking in its rank fusion
# (1.0 = vector only). 1/9 is the embedded store's tuned 1 : 8 (engine/lexical.py, dev split).
HYBRID_ALPHA: float = env.float("PROPHECY_HYBRID_ALPHA", default=round(1 / 9, 3))
# Grid cell (metres) that locations are coarsened to before they reach the vector store.
LOCATION_GRID_M: int = max(500, env.int("PROPHECY_LOCATION_GRID_M", default=500))

# Hotspot thresholds (the design's 0.8 demand and 0.75 confidence).
HOTSPOT_DEMAND: float = env.float("PROPHECY_HOTSPOT_DEMAND", default=0.8)
HOTSPOT_CONFIDENCE: float = env.float("PROPHECY_HOTSPOT_CONFIDENCE", default=0.75)
FORECAST_HORIZON_WEEKS: int = env.int("PROPHECY_FORECAST_HORIZON_WEEKS", default=4)
# Working days a technician's shift hours count per week when computing district capacity.
WORKDAYS_PER_WEEK: int = env.int("PROPHECY_WORKDAYS_PER_WEEK", default=5)

# Weaviate (the URL and key are the project's settings; the rest are ours).
WEAVIATE_COLLECTION: str = env.str("PROPHECY_WEAVIATE_COLLECTION", default="HvacText")
WEAVIATE_GRPC_PORT: int = env.int("PROPHECY_WEAVIATE_GRPC_PORT", default=50051)
WEAVIATE_TIMEOUT_S: float = env.float("PROPHECY_WEAVIATE_TIMEOUT_S", default=5.0)
WEAVIATE_RETRIES: int = env.int("PROPHECY_WEAVIATE_RETRIES", default=2)


def vector_store_backend() -> str:
    return getattr(settings, "VECTOR_STORE_BACKEND", "embedded") or "embedded"


def weaviate_url() -> str:
    return getattr(settings, "WEAVIATE_URL", "") or ""


def weaviate_api_key() -> str:
    return getattr(settings, "WEAVIATE_API_KEY", "") or ""
