"""The DRF parser that settings name (DEFAULT_PARSER_CLASSES). A module of its own: hvaccrm.drf
imports rest_framework.views, whose APIView reads this setting when it is defined, so the parser
there would be imported while that module is half loaded."""

from __future__ import annotations

import io
import re

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

# A string (skipped whole, so brackets inside it do not count) or one bracket.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth_exceeds(data: bytes, limit: int) -> bool:
    """Whether the JSON text nests arrays/objects deeper than `limit` (read without parsing it)."""
    depth = 0
    for token in _JSON_TOKENS.finditer(data):
        char = token.group()
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


class DepthLimitedJSONParser(JSONParser):
    """The JSON parser with a nesting limit: a body nested thousands deep made the decoder raise
    RecursionError, a 500; it is now a 400 before it is decoded. No request of ours nests past a
    handful of levels."""

    max_depth = 64

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        if json_depth_exceeds(data, self.max_depth):
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {self.max_depth} levels")
        try:
            return super().parse(io.BytesIO(data), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deep")
