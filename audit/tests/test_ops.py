"""Monitoring as code (ops/): the alert rules proven with Prometheus's own tools, a real Prometheus
scraping the live server, and the Grafana dashboard naming only metrics the product exports.

promtool and prometheus come from Debian's `prometheus` package (.ci/run installs it): missing in
CI is a failure, elsewhere the tests are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from hvaccrm import metrics

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "ops" / "prometheus"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:  # not a skip: the only allowed skips are the browser's and live Weaviate's
        pytest.fail(f"{name} is missing: install Debian's prometheus package (apt-get install prometheus)")
    return path


def test_promtool_accepts_the_rules_and_every_rule_has_a_unit_test_that_passes():
    promtool = _tool("promtool")
    checked = subprocess.run([promtool, "check", "rules", "rules.yml"], cwd=PROMETHEUS_DIR,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", "rules.test.yml"], cwd=PROMETHEUS_DIR,
                            capture_output=True, text=True, timeout=120)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    rules = (PROMETHEUS_DIR / "rules.yml").read_text()
    tests = (PROMETHEUS_DIR / "rules.test.yml").read_text()
    alerts = {line.split(":", 1)[1].strip() for line in rules.splitlines() if line.strip().startswith("- alert:")}
    assert alerts == {"IntegrationSuccessRateLow", "OutboxDeadRows", "OutboxBacklogStale",
                      "EmergencyQueueNotDraining", "VectorStoreDown", "SearchP95OverBudget"}
    for alert in alerts:
        assert f"alertname: {alert}" in tests, f"no promtool test for {alert}"


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def metrics_token(monkeypatch):
    token = "scrape-" + os.urandom(8).hex()
    monkeypatch.setenv("METRICS_TOKEN", token)  # the live server reads it at start
    return token


def _observe_one_of_each() -> None:
    metrics.cache_lookup(cache="embeddings", hits=1, misses=1)
    metrics.histogram_observe("hvaccrm_search_duration_seconds", 0.02, backend="embedded", source="vector")
    metrics.histogram_observe("hvaccrm_search_results", 3, backend="embedded", source="vector")
    metrics.histogram_observe("hvaccrm_embedding_duration_seconds", 0.01, provider="hashgram")
    metrics.counter_inc("hvaccrm_embedded_texts", provider="hashgram")
    metrics.delivery_outcome(channel="sms", state="sent")
    metrics.socket_connection(accepted=True)
    metrics.socket_closed(accepted=True)
    metrics.socket_push(event={"type": "job.updated"})
    metrics.counter_inc("hvaccrm_classifier_decisions", urgency="normal")
    metrics.counter_inc("hvaccrm_outbox_attempts", source="core", target="map", state="succeeded")
    metrics.histogram_observe("hvaccrm_outbox_latency_seconds", 0.2, source="core", target="map")


def test_a_real_prometheus_scrapes_the_live_server_and_sees_every_family(metrics_token, live_asgi_url, tmp_path):
    from hvaccrm.models import IntegrationLog

    prometheus = _tool("prometheus")
    IntegrationLog.objects.create(source="communications", target="notifications", kind="emergency.alert")
    _observe_one_of_each()
    host = urllib.parse.urlparse(live_asgi_url).netloc
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "rule_files: [" + json.dumps(str(PROMETHEUS_DIR / "rules.yml")) + "]\n"
        "scrape_configs:\n"
        "  - job_name: hvaccrm\n"
        "    metrics_path: /metrics\n"
        f"    authorization: {{credentials: {json.dumps(metrics_token)}}}\n"
        f"    static_configs: [{{targets: [{json.dumps(host)}]}}]\n"
    )
    port = _free_port()
    proc = subprocess.Popen(
        [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    wanted = {
        *(f"{name}_total" for name, f in metrics.FAMILIES.items() if f.buckets is None),
        *(f"{name}_bucket" for name, f in metrics.FAMILIES.items() if f.buckets is not None),
        *metrics.GAUGES, "hvaccrm_integration_rows_total", "hvaccrm_integration_backlog",
        "hvaccrm_integration_health_state", "hvaccrm_integration_latency_seconds_bucket",
        "hvaccrm_integration_success_threshold_ratio", "hvaccrm_integration_switched_off",
    }
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not wanted <= seen:
            time.sleep(1)
            if proc.poll() is not None:
                pytest.fail(f"prometheus exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                seen = set(_get_json(f"{api}/label/__name__/values")["data"])
            except OSError:
                continue
        targets = _get_json(f"{api}/targets")["data"]["activeTargets"]
        assert [t["health"] for t in targets] == ["up"], targets
        assert wanted <= seen, sorted(wanted - seen)
        lag = _get_json(f"{api}/query?query=" + urllib.parse.quote(
            'hvaccrm_outbox_backlog{kind="emergency.alert"}'))["data"]["result"]
        assert lag and lag[0]["value"][1] == "1"
        rules = _get_json(f"{api}/rules")["data"]["groups"]
        assert {g["name"] for g in rules} >= {"hvaccrm-integrations", "hvaccrm-outbox", "hvaccrm-prophecy"}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


GRAFANA_DIR = ROOT / "ops" / "grafana"
# A metric name in PromQL: hvaccrm_ followed by name characters (recording rules use colons,
# hvaccrm:..., and are checked against the rules file instead).
METRIC = re.compile(r"\b(hvaccrm_[a-zA-Z0-9_]+)")
RECORDED = re.compile(r"\b(hvaccrm:[a-zA-Z0-9_:]+)")


def _exported_names(client, manager) -> set[str]:
    """The sample names /metrics exports, from its text (families, with each type's suffixes)."""
    from django.urls import reverse
    from prometheus_client.parser import text_string_to_metric_families

    client.force_login(manager)
    body = client.get(reverse("metrics")).content.decode()
    names = set()
    for family in text_string_to_metric_families(body):
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}.get(family.type, ("",))
        names.update(family.name + s for s in suffixes)
    return names


def _panel_queries() -> list[tuple[str, str]]:
    out = []
    for path in sorted((GRAFANA_DIR / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            out += [(f"{path.name}: {panel['title']}", t["expr"]) for t in panel.get("targets", [])]
    return out


@pytest.mark.django_db
def test_every_dashboard_panel_names_only_metrics_the_product_exports(client, manager):
    exported = _exported_names(client, manager)
    recorded = set(RECORDED.findall((PROMETHEUS_DIR / "rules.yml").read_text()))
    queries = _panel_queries()
    assert len(queries) >= 15
    unknown = [(where, name) for where, expr in queries for name in METRIC.findall(expr) if name not in exported]
    unknown += [(where, name) for where, expr in queries for name in RECORDED.findall(expr) if name not in recorded]
    assert unknown == []


@pytest.mark.django_db
def test_the_dashboard_check_catches_a_panel_naming_a_metric_that_does_not_exist(client, manager):
    exported = _exported_names(client, manager)
    assert "hvaccrm_outbox_backlog" in exported and "hvaccrm_search_duration_seconds_bucket" in exported
    assert [n for n in METRIC.findall("rate(hvaccrm_cache_hits_total[5m])") if n not in exported] == [
        "hvaccrm_cache_hits_total"]


def test_the_provisioning_files_point_grafana_at_the_dashboards_and_the_datasource_they_use():
    import yaml

    datasource = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uids = {d["uid"] for d in datasource["datasources"]}
    provider = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "hvaccrm.yml").read_text())
    assert provider["providers"][0]["type"] == "file"
    for path in (GRAFANA_DIR / "dashboards").glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            assert panel["datasource"]["uid"] in uids, panel["title"]
