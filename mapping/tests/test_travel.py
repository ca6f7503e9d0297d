"""Travel times without Django: the great-circle estimate and an OSRM-compatible server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from mapping.travel import hour_factor, matrix_for, matrix_haversine

PALACE = (52.2318, 21.0060)  # Śródmieście
WILANOW = (52.1650, 21.0900)


@pytest.fixture
def osrm():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            n = self.path.split("/driving/")[1].split("?")[0].count(";") + 1
            body = {"code": "Ok", "durations": [[0 if i == j else 600.4 for j in range(n)] for i in range(n)]}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()


def test_the_great_circle_estimate_is_plausible_and_symmetric():
    m = matrix_haversine([PALACE, WILANOW], ["srodmiescie", "wilanow"])
    assert m[0][0] == 0 and m[0][1] == m[1][0]
    assert 10 * 60 < m[0][1] < 40 * 60  # about 9 km by road across the city
    assert hour_factor(8) < hour_factor(12) < hour_factor(23)


def test_an_osrm_server_gives_the_matrix_when_configured(osrm):
    url, seen = osrm
    matrix, source = matrix_for([PALACE, WILANOW], [None, None], routing_url=url)
    assert source == "osrm" and matrix == [[0, 600], [600, 0]]
    assert seen and seen[0].startswith("/table/v1/driving/21.006000,52.231800;21.090000,52.165000")


def test_an_unreachable_routing_server_falls_back_to_the_estimate():
    matrix, source = matrix_for([PALACE, WILANOW], [None, None], routing_url="http://127.0.0.1:9", timeout=0.5)
    assert source == "haversine" and matrix[0][1] > 0
