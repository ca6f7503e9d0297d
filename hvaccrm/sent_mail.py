"""Read the e-mails Django's file backend kept in EMAIL_FILE_PATH (development: var/mail/).

The backend appends every message of one connection to one `<timestamp>-<id>.log` file, each
followed by a line of 79 dashes; a message is addressed here as `<file stem>.<position>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings

SEPARATOR = b"\n" + b"-" * 79 + b"\n"
KEY = re.compile(r"^(?P<stem>[\w.-]+)\.(?P<n>\d+)$")


@dataclass(frozen=True)
class SentMail:
    key: str
    subject: str
    sender: str
    to: str
    date: str
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""


def sent_mail_enabled() -> bool:
    return settings.EMAIL_BACKEND.endswith("filebased.EmailBackend")


def _directory() -> Path:
    return Path(settings.EMAIL_FILE_PATH)


def _messages_of(path: Path) -> list[SentMail]:
    mails = []
    for n, raw in enumerate(part for part in path.read_bytes().split(SEPARATOR) if part.strip()):
        message = message_from_bytes(raw, policy=policy.default)
        mails.append(SentMail(key=f"{path.stem}.{n}", subject=str(message["subject"] or ""),
                              sender=str(message["from"] or ""), to=str(message["to"] or ""),
                              date=str(message["date"] or ""), message=message))
    return mails


def sent_mail_list() -> list[SentMail]:
    """Every kept e-mail, newest first (files by time, then the later message of a file first)."""
    directory = _directory()
    if not directory.is_dir():
        return []
    files = sorted(directory.glob("*.log"), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return [mail for path in files for mail in reversed(_messages_of(path))]


def sent_mail_get(*, key: str) -> SentMail | None:
    match = KEY.match(key)
    if match is None:
        return None
    path = _directory() / f"{match['stem']}.log"
    if not path.is_file():
        return None
    mails = _messages_of(path)
    n = int(match["n"])
    return mails[n] if n < len(mails) else None
