"""Races on real PostgreSQL: requests released together by a barrier, one winner, a clear 400 for
the rest, never a 500 (issue 20)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from hvaccrm.models import JobFeedback
from portal.tests.factories import ServiceJobFactory

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


def test_double_feedback_on_a_visit_has_one_winner_and_a_400_for_the_rest(anna_user, client_anna):
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna, status="completed", completed_at=timezone.now())
    url = reverse("portal:feedback", args=[job.pk])
    barrier = threading.Barrier(THREADS)
    codes: list[int] = []

    def give(rating: int) -> None:
        http = HttpClient(raise_request_exception=False)
        http.force_login(anna_user)
        barrier.wait()
        try:
            codes.append(http.post(url, {"rating": rating, "comment": "x"}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=give, args=(1 + i % 5,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [302] + [400] * (THREADS - 1), codes
    assert JobFeedback.objects.filter(job=job).count() == 1
