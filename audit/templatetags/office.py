"""{% office_home as home %}: the admin index's tiles and links (audit/office.py)."""

from __future__ import annotations

from django import template

from audit.office import office_home as _office_home

register = template.Library()


@register.simple_tag(takes_context=True)
def office_home(context):
    return _office_home(user=context["request"].user)
