"""Rows every installation needs: the 18 districts (default geometry) and the role groups."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from hvaccrm.geo import DISTRICTS, default_geometries, default_neighbours, district_index_reset

ROLES = ("dispatcher", "manager", "administrator", "technician", "client")
PROJECT_APPS = ("hvaccrm", "communications", "mapping", "prophecy", "audit", "portal")
# Models a dispatcher may add and change, besides viewing everything of the project's apps.
DISPATCHER_WRITES = {
    "hvaccrm": {"servicejob", "client", "site", "equipment"},
    "communications": "*",
    "mapping": "*",
}
# The trails are read-only for everyone: no role gets change or delete on them.
READ_ONLY = {("hvaccrm", "accessrecord"), ("hvaccrm", "consent"), ("hvaccrm", "integrationlog")}


def districts_ensure() -> int:
    """Create missing districts with the default geometry; never overwrite loaded boundaries."""
    from hvaccrm.models import District

    geoms = default_geometries()
    created = 0
    with transaction.atomic():
        for slug, (name, _lat, _lng, tier, weight) in DISTRICTS.items():
            _, was_created = District.objects.get_or_create(
                slug=slug,
                defaults={"name": name, "affluence_tier": tier, "weight": weight, "geometry": geoms[slug]},
            )
            created += was_created
        if created:
            by_slug = {d.slug: d for d in District.objects.all()}
            for slug, neighbours in default_neighbours().items():
                by_slug[slug].neighbours.set([by_slug[n] for n in neighbours])
    district_index_reset()
    return created


def roles_ensure() -> None:
    """The five role groups with their permissions (idempotent)."""
    perms = Permission.objects.select_related("content_type").filter(content_type__app_label__in=PROJECT_APPS)
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
    grants: dict[str, list[Permission]] = {name: [] for name in ROLES}
    for perm in perms:
        app, model = perm.content_type.app_label, perm.content_type.model
        action = perm.codename.split("_", 1)[0]
        read_only = (app, model) in READ_ONLY
        if action == "view":
            grants["dispatcher"].append(perm)
            grants["manager"].append(perm)
            grants["administrator"].append(perm)
            continue
        if read_only and action in ("change", "delete", "add"):
            continue
        grants["administrator"].append(perm)
        if action in ("add", "change"):
            grants["manager"].append(perm)
            writable = DISPATCHER_WRITES.get(app)
            if writable == "*" or (writable and model in writable):
                grants["dispatcher"].append(perm)
    auth_perms = Permission.objects.filter(content_type__app_label="auth")
    grants["administrator"] += list(auth_perms)
    grants["manager"] += [p for p in auth_perms if p.codename.startswith("view_")]
    for name, group in groups.items():
        group.permissions.set(grants[name])


def bootstrap_after_migrate(sender, **kwargs) -> None:
    # post_migrate fires once per app with models, after that app's permissions exist; re-granting
    # after each project app keeps the roles complete whatever the order.
    if sender.label == "hvaccrm":
        districts_ensure()
    # After each project app, so the roles are complete whichever apps have models.
    if sender.label in PROJECT_APPS:
        roles_ensure()
