"""Shared test plumbing and personas (STYLE.md): a dispatcher, a manager, a technician of Mokotów,
client Anna, and client Bartek, who must never see Anna's data."""

from __future__ import annotations

import os

# Tests run against the real PostgreSQL and Redis named by DATABASE_URL / REDIS_URL; a separate
# cache prefix and channel prefix keep them apart from a running demo on the same Redis.
os.environ.setdefault("TESTING", "true")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{os.getpid()}")
os.environ.setdefault("CHANNEL_PREFIX", f"test{os.getpid()}")
os.environ.setdefault("CELERY_QUEUE", f"test-{os.getpid()}")
os.environ.setdefault("AXES_ENABLED", "true")

import pytest

from hvaccrm.tests.factories import (
    ClientFactory,
    SiteFactory,
    TechnicianFactory,
    UserFactory,
    district,
)


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    from django.core.cache import cache

    cache.clear()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    cache.clear()


@pytest.fixture
def dispatcher(db):
    return UserFactory(username="dorota", role="dispatcher", is_staff=True)


@pytest.fixture
def manager(db):
    return UserFactory(username="marta", role="manager", is_staff=True)


@pytest.fixture
def administrator(db):
    return UserFactory(username="alicja", role="administrator", is_staff=True, is_superuser=True)


@pytest.fixture
def technician_mokotow(db):
    return TechnicianFactory(home_district=district("mokotow"), on_shift=True)


@pytest.fixture
def client_anna(db):
    user = UserFactory(username="anna@example.com", email="anna@example.com", role="client")
    client = ClientFactory(name="Anna Kowalska", email="anna@example.com")
    client.users.add(user)
    SiteFactory(client=client, district=district("mokotow"), latitude=52.1930, longitude=21.0250)
    return client


@pytest.fixture
def client_bartek(db):
    user = UserFactory(username="bartek@example.com", email="bartek@example.com", role="client")
    client = ClientFactory(name="Bartek Nowak", email="bartek@example.com")
    client.users.add(user)
    SiteFactory(client=client, district=district("wola"), latitude=52.2360, longitude=20.9650)
    return client


@pytest.fixture
def anna_user(client_anna):
    return client_anna.users.get()


@pytest.fixture
def bartek_user(client_bartek):
    return client_bartek.users.get()
