"""The parsers of every API (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES): JSON, and forms for DRF's test client.

DRF's own parser hands over whatever ``json.loads`` builds. Four kinds of body got through it and broke
later with a 500: nesting deep enough to exhaust the stack (``RecursionError`` in the decoder or in any
recursive code after it), NUL characters (PostgreSQL's text and jsonb cannot store them: ``DataError``),
lone UTF-16 surrogates such as ``"\\ud800"`` (not encodable as UTF-8: ``UnicodeEncodeError`` in the
database driver or the renderer), and numbers beyond a float (``1e999`` reads as infinity, which a jsonb
column refuses: ``DataError``). This parser refuses them all, in values and in keys, with 400 naming
where they are, so nothing past it has to think about them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import IO, Any

from django.http import QueryDict
from rest_framework import exceptions
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

MAX_JSON_DEPTH = 32  # our deepest body (an overlay's parameters) is 3 levels; 32 leaves room for clients' properties


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored as text, or None when it can."""
    if "\x00" in text:
        return "NUL characters (\\u0000) are not allowed."
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "Lone surrogate characters (\\ud800 to \\udfff) are not allowed."
    return None


def printable(text: str) -> str:
    """``text`` safe to name in an error body: NUL and lone surrogates written as escapes."""
    return text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def json_body_check(data: Any, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise a 400 for a body nested deeper than ``max_depth`` or holding a string or key that cannot be
    stored; the error names its place as a dotted path (``properties.items.2``). Iterative: the body may
    be as deep as the decoder allowed."""
    pending: list[tuple[Any, str, int]] = [(data, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise exceptions.ValidationError({path or "body": [problem]})
            continue
        if isinstance(value, float) and not math.isfinite(value):  # 1e999: infinity, storable nowhere
            raise exceptions.ValidationError({path or "body": ["This number is too large."]})
        if not isinstance(value, Mapping | list):
            continue
        if depth >= max_depth:
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {max_depth} levels.")
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        for key, child in items:
            place = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (problem := text_problem(key)):
                raise exceptions.ValidationError({printable(place): [f"This key is not allowed: {problem}"]})
            pending.append((child, place, depth + 1))


class SafeJSONParser(JSONParser):
    """DRF's JSON parser (strict: no NaN or Infinity), then ``json_body_check``."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # the C decoder recurses once per level
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        json_body_check(data)
        return data


def form_data_check(data: QueryDict) -> None:
    """``json_body_check`` for a form body: NUL (``%00``) in a field's name or value is refused naming the
    field. (Django decodes percent-escapes with errors="replace", so no lone surrogate gets this far.)"""
    for key, values in data.lists():
        for text in (key, *values):
            if isinstance(text, str) and (problem := text_problem(text)):
                raise exceptions.ValidationError({printable(key): [problem]})


class SafeFormParser(FormParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        form_data_check(data)
        return data


class SafeMultiPartParser(MultiPartParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        assert isinstance(parsed, DataAndFiles)
        form_data_check(parsed.data)
        return parsed
