"""API fuzzing: schemathesis generates requests from the OpenAPI description drf-spectacular serves
at /api/schema/ and sends them, as each persona, to the project's WSGI application in this process
(the test database): no answer is a 5xx, and every documented answer matches its schema.

PROOF_FUZZ_EXAMPLES examples per operation and persona (default small, for CI); FULL=1 sends 100.
"""

from __future__ import annotations

import collections
import os

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

EXAMPLES = 100 if os.environ.get("FULL") == "1" else int(os.environ.get("PROOF_FUZZ_EXAMPLES", "4"))
# The explicit phase is schemathesis' coverage phase (boundary values of every parameter): thorough but
# some thousand requests, so only with FULL=1 (or PROOF_FUZZ_COVERAGE=1).
COVERAGE = os.environ.get("FULL") == "1" or os.environ.get("PROOF_FUZZ_COVERAGE") == "1"
PHASES = [Phase.explicit, Phase.generate] if COVERAGE else [Phase.generate]
PERSONAS = ["anonymous", "client", "technician", "dispatcher", "manager"]
STATUSES: collections.Counter = collections.Counter()

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _connection_kept_across_requests():
    """The WSGI handler closes the database connection after each request; the test's transaction
    lives on it, so - as Django's own test client does - the handler leaves it open here."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=PERSONAS)
def persona_headers(request, db, client_anna, technician_mokotow, dispatcher, manager):
    """The Authorization header of one persona (a knox token, as the apps send it)."""
    from knox.models import AuthToken

    user = {"anonymous": None, "client": client_anna.users.first(), "technician": technician_mokotow.user,
            "dispatcher": dispatcher, "manager": manager}[request.param]
    if user is None:
        return {}
    return {"Authorization": f"Token {AuthToken.objects.create(user)[1]}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=PHASES,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error_or_an_answer_outside_the_schema(case, persona_headers):
    cache.clear()  # the throttles would answer 429 to most of the run and hide the real answers
    response = case.call_and_validate(
        headers={**persona_headers, "Host": "localhost"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
    STATUSES[response.status_code] += 1


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", validate=True, fail_on_warn=True, file=str(tmp_path / "schema.yml"))
    print(f"\nfuzz: {EXAMPLES} examples per operation and persona; answers by status: {dict(sorted(STATUSES.items()))}")
