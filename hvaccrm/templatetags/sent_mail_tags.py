"""`{% sent_mail_enabled as enabled %}`: whether e-mails are kept as files for the staff page."""

from __future__ import annotations

from django import template

from hvaccrm import sent_mail

register = template.Library()


@register.simple_tag
def sent_mail_enabled() -> bool:
    return sent_mail.sent_mail_enabled()
