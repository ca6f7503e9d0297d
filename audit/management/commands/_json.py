from __future__ import annotations

import contextlib
import json
import sys

from django.core.serializers.json import DjangoJSONEncoder


def dumps(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder, default=str)


def quiet_stdout():
    """While the work runs, whatever a library prints goes to stderr: stdout carries only the JSON."""
    return contextlib.redirect_stdout(sys.stderr)
