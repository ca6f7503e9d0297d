"""Group names, one helper per audience, and who may join each.

Channels group names allow ASCII letters, digits, hyphens, underscores and periods (< 100 chars).
Apps that own an audience (communications: conversations) register an authoriser for its prefix.
"""

from __future__ import annotations

from collections.abc import Callable

DISPATCH = "dispatch"
MANAGERS = "managers"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def client_group(client_id: int) -> str:
    return f"client.{client_id}"


def technician_group(technician_id: int) -> str:
    return f"technician.{technician_id}"


def district_group(slug: str) -> str:
    return f"district.{slug}.technicians"


def dispatch_group() -> str:
    return DISPATCH


def managers_group() -> str:
    return MANAGERS


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def inbox_group() -> str:
    """The office inbox: every dispatcher and manager sees new client messages."""
    return "inbox"


Authoriser = Callable[[object, str], bool]
_authorisers: dict[str, Authoriser] = {}


def register_group_authoriser(prefix: str, fn: Authoriser) -> None:
    """fn(user, group) -> bool for groups named `prefix.*` (called in a sync context)."""
    _authorisers[prefix] = fn


def is_staff_role(user, *roles: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    names = set(user.groups.values_list("name", flat=True))
    return bool(names & set(roles))


def user_can_join(user, group: str) -> bool:
    """Whether `user` may receive the events of `group`. Sync: call through database_sync_to_async."""
    if not user.is_authenticated or not user.is_active:
        return False
    prefix = group.split(".", 1)[0]
    if group == user_group(user.pk):
        return True
    if group in (DISPATCH, "inbox"):
        return is_staff_role(user, "dispatcher", "manager", "administrator")
    if group == MANAGERS:
        return is_staff_role(user, "manager", "administrator")
    if prefix == "client":
        return user.clients.filter(pk=_int_suffix(group)).exists()
    if prefix == "technician":
        if _int_suffix(group) <= 0 or group != technician_group(_int_suffix(group)):  # well-formed, even for the office
            return False
        tech = getattr(user, "technician", None)
        return (tech is not None and tech.pk == _int_suffix(group)) or is_staff_role(user, "dispatcher", "manager", "administrator")
    if prefix == "district":
        tech = getattr(user, "technician", None)
        slug = group.split(".")[1] if group.count(".") == 2 else ""
        if not slug or group != district_group(slug):
            return False
        return (tech is not None and tech.home_district.slug == slug) or is_staff_role(user, "dispatcher", "manager", "administrator")
    if prefix in _authorisers:
        return bool(_authorisers[prefix](user, group))
    return False


def _int_suffix(group: str) -> int:
    try:
        return int(group.rsplit(".", 1)[1])
    except (IndexError, ValueError):
        return -1


def default_groups(user) -> list[str]:
    """The groups a connection joins at once, from the user's roles."""
    groups = [user_group(user.pk)]
    if is_staff_role(user, "dispatcher", "manager", "administrator"):
        groups += [DISPATCH, "inbox"]
    if is_staff_role(user, "manager", "administrator"):
        groups.append(MANAGERS)
    tech = getattr(user, "technician", None) if hasattr(user, "technician") else None
    if tech is not None:
        groups += [technician_group(tech.pk), district_group(tech.home_district.slug)]
    groups += [client_group(pk) for pk in user.clients.values_list("pk", flat=True)]
    return groups
