"""The gas-safety instruction: one wording, one msgid, for every place a client may read it.

The portal's warning box, the booking e-mail, the messages page and communications' automatic reply
to a gas or carbon-monoxide message all show this text; two wordings of an emergency instruction
make a frightened reader wonder which one is right.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _

GAS_SAFETY_INSTRUCTION = _(
    "Leave the building now: do not switch lights or appliances on or off, do not use an open flame, "
    "open windows if you can do it at once, and from outside call the emergency number 112 or the "
    "gas emergency line 992."
)


def gas_safety_instruction(*, language: str | None = None) -> str:
    """The instruction in `language` (a writer's, a recipient's), or in the active language."""
    if language is None:
        return str(GAS_SAFETY_INSTRUCTION)
    with translation.override(language):
        return str(GAS_SAFETY_INSTRUCTION)
