"""`{% gas_safety_instruction %}`: the one wording of hvaccrm.safety, for templates."""

from __future__ import annotations

from django import template

from hvaccrm import safety

register = template.Library()


@register.simple_tag
def gas_safety_instruction() -> str:
    return safety.gas_safety_instruction()
