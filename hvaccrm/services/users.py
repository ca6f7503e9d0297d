"""Who a user is to the CRM: their clients, their role, whether they may sign in.

Each change also reaches the user's open sockets (after commit): they drop the groups they may no
longer hear, or close when the user was deactivated, instead of keeping the rights they had at
connect until the page is closed.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from hvaccrm.errors import ServiceError
from hvaccrm.models import AccessRecord, Client
from hvaccrm.realtime.control import rights_changed
from hvaccrm.services.access import access_record
from hvaccrm.services.bootstrap import ROLES


def client_user_add(*, client: Client, user, actor=None) -> None:
    """Give a login access to a client's data (their sites, visits, messages)."""
    _client_membership_set(client=client, user=user, actor=actor, member=True)


def client_user_remove(*, client: Client, user, actor=None) -> None:
    """Take a login's access to a client away; its sockets leave `client.<id>` within seconds."""
    _client_membership_set(client=client, user=user, actor=actor, member=False)


def _client_membership_set(*, client: Client, user, actor, member: bool) -> None:
    with transaction.atomic():
        (client.users.add if member else client.users.remove)(user)
        access_record(
            actor=actor,
            action=AccessRecord.Action.CHANGE,
            obj=client,
            subject_client_id=client.pk,
            purpose="client login added" if member else "client login removed",
            fields=["users"],
        )
        rights_changed(user_ids=[user.pk])


def user_role_set(*, user, role: str, actor=None) -> None:
    """Make `role` the user's only role group (a dispatcher promoted to manager, and so on)."""
    if role not in ROLES:
        raise ServiceError(_("Unknown role."), fields={"role": [_("Unknown role.")]})
    with transaction.atomic():
        user.groups.set([Group.objects.get_or_create(name=role)[0]])
        _user_rights_changed(user=user, actor=actor, purpose=f"role set to {role}", fields=["groups"])


def user_groups_set(*, user, groups, actor=None) -> None:
    """Set the user's groups as chosen (the admin's user page): roles are groups, so their sockets
    re-check which groups they may keep."""
    groups = list(groups)
    with transaction.atomic():
        user.groups.set(groups)
        names = ", ".join(sorted(g.name for g in groups)) or "none"
        _user_rights_changed(user=user, actor=actor, purpose=f"groups set to {names}", fields=["groups"])


def user_superuser_set(*, user, superuser: bool, actor=None) -> None:
    """Grant or take away every right at once; the user's sockets re-check their groups."""
    with transaction.atomic():
        user.is_superuser = superuser
        user.save(update_fields=["is_superuser"])
        _user_rights_changed(user=user, actor=actor, purpose="superuser" if superuser else "superuser removed",
                             fields=["is_superuser"])


def user_active_set(*, user, active: bool, actor=None) -> None:
    """Let a user sign in, or not; a deactivated user's open sockets are closed (4401)."""
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        _user_rights_changed(user=user, actor=actor, purpose="activated" if active else "deactivated",
                             fields=["is_active"])


def _user_rights_changed(*, user, actor, purpose: str, fields: list[str]) -> None:
    """The trail row of a change of rights, and the re-check of the user's sockets after commit."""
    access_record(actor=actor, action=AccessRecord.Action.CHANGE, obj=user, purpose=purpose, fields=fields)
    rights_changed(user_ids=[user.pk])
