"""The pre-deployment checklist (`manage.py preflight`): each step a row, pass, warn or fail."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import checks as django_checks
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


@dataclass
class Row:
    name: str
    result: str  # pass, warn, fail
    detail: str


def _deploy_checks() -> Row:
    messages = django_checks.run_checks(include_deployment_checks=True)
    errors = [m for m in messages if m.level >= django_checks.ERROR]
    warnings = [m for m in messages if django_checks.WARNING <= m.level < django_checks.ERROR]
    if errors:
        return Row("deploy checks", "fail", "; ".join(f"{m.id}: {m.msg}"[:120] for m in errors[:5]))
    if warnings:
        return Row("deploy checks", "warn", f"{len(warnings)} warning(s): " + ", ".join(m.id or "" for m in warnings[:8]))
    return Row("deploy checks", "pass", "no issues")


def _migrations() -> Row:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:8])
        return Row("migrations applied", "fail", f"{len(plan)} unapplied: {names}")
    return Row("migrations applied", "pass", "all applied")


def _health_checks() -> list[Row]:
    from hvaccrm.checks import run_checks

    return [Row(f"health: {r.name}", "pass" if r.ok else "fail", r.detail) for r in run_checks()]


def _consistency() -> Row:
    from audit.consistency import CHECKS_BY_KIND, get_data_consistency_report

    report = get_data_consistency_report()
    blocking = [f for f in report["findings"] if CHECKS_BY_KIND[f["kind"]].kind != "technician_stale_position"]
    if blocking:
        return Row("consistency verified", "fail",
                   ", ".join(f"{f['kind']}={f['count']}" for f in blocking) + " (run repair_inconsistencies)")
    detail = f"{len(report['checked'])} checks clean"
    if report["skipped"]:
        return Row("consistency verified", "warn", detail + f"; not checked: {', '.join(report['skipped'])}")
    return Row("consistency verified", "pass", detail)


def _integrations() -> Row:
    from audit.health import health_compute

    data = health_compute()
    red = [r["key"] for r in data["integrations"] if r["state"] == "red"]
    amber = [r["key"] for r in data["integrations"] if r["state"] == "amber"]
    if red:
        return Row("integrations healthy", "fail", "red: " + ", ".join(red))
    if amber:
        return Row("integrations healthy", "warn", "amber: " + ", ".join(amber))
    return Row("integrations healthy", "pass", "all green")


def preflight_run() -> list[Row]:
    rows = []
    for step in (_deploy_checks, _migrations):
        try:
            rows.append(step())
        except Exception as exc:  # a step that cannot run is a failed step
            rows.append(Row(step.__name__.strip("_").replace("_", " "), "fail", f"{type(exc).__name__}: {exc}"[:200]))
    try:
        rows += _health_checks()
    except Exception as exc:
        rows.append(Row("health checks", "fail", str(exc)[:200]))
    for step in (_consistency, _integrations):
        try:
            rows.append(step())
        except Exception as exc:
            rows.append(Row(step.__name__.strip("_").replace("_", " "), "fail", f"{type(exc).__name__}: {exc}"[:200]))
    return rows
