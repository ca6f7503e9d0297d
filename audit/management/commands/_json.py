from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder


def dumps(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder, default=str)
