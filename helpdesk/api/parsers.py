"""The API's JSON parser: malformed input of every kind is a 400 (or 413), never a 500."""
from __future__ import annotations

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy as _
from rest_framework import exceptions, parsers, status


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


def _refuse_constant(value: str):
    raise ValueError(f"{value} is not valid JSON")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, hardened.

    DRF catches ``ValueError`` only; these escape it and would be a 500:
    - an unknown ``charset`` in Content-Type (``LookupError``);
    - deeply nested arrays/objects (``RecursionError`` inside ``json``).
    Bodies larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` are refused with 413 before reading,
    which Django itself only enforces for ``request.body``.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context.get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise RequestTooLarge()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise exceptions.ParseError(gettext("Unknown character set: %(charset)s") % {"charset": encoding}) from None
        try:
            raw = stream.read(limit + 1) if limit is not None else stream.read()
            if limit is not None and len(raw) > limit:
                raise RequestTooLarge()
            text = raw.decode(encoding)
            data = json.loads(text, parse_constant=_refuse_constant)
            _check_storable_strings(data)
            return data
        except (ValueError, RecursionError) as exc:
            # UnicodeDecodeError and JSONDecodeError are ValueErrors.
            raise exceptions.ParseError(gettext("The body is not valid JSON: %(error)s") % {"error": _describe(exc)}) \
                from None


def _check_storable_strings(data) -> None:
    """Refuse strings PostgreSQL cannot store (text and jsonb alike): NUL, lone surrogates.

    JSON allows both as escapes (``\\u0000``, ``\\ud800``); left in, they fail at the
    database as a 500 wherever a field does not validate them itself.
    """
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            _check_string(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_string(key)
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)


def _check_string(value: str) -> None:
    if "\x00" in value:
        raise ValueError(gettext("text may not contain NUL characters"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(gettext("text contains an unpaired surrogate")) from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return gettext("nested too deeply")
    if isinstance(exc, UnicodeDecodeError):
        return gettext("not valid text in the declared character set")
    return str(exc)
