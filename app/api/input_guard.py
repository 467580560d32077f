"""What the schemas cannot see, checked for every routed API request before its view
(the console checks its forms with `unstorable_fields`, app/api/console/pages.py).

- A body in another media type than JSON would be read as no body at all (a PATCH
  answering 200 having saved nothing): 415 UNSUPPORTED_MEDIA_TYPE.
- JSON nested deeper than Python's recursion limit fails to parse with a RecursionError,
  not a decode error: answered like any malformed JSON (400 BAD_REQUEST).
- Text no database can store: PostgreSQL refuses a NUL character, and neither database
  driver can encode a lone surrogate (JSON may carry "\\ud800" unpaired) as UTF-8. A string
  holding either, in the body, the query or the path, is a 422 VALIDATION_ERROR naming the
  field, on both databases.
"""
import json
import re

from flask import request

from app.errors import AppError, RequestError

UNSTORABLE_MESSAGE = "Must not contain NUL characters or unpaired surrogates."
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_request_input() -> None:
    if request.url_rule is None or not request.path.startswith("/api/"):
        return  # routing failed (the 404 or 405 answers), or not the JSON API
    fields = unstorable_fields([*request.args.items(multi=True), *(request.view_args or {}).items()])
    raw = request.get_data(cache=True)
    if raw:
        if not request.is_json:
            raise AppError(RequestError.UNSUPPORTED_MEDIA_TYPE, details={"content_type": request.mimetype})
        fields += _unstorable_body_fields(raw)
    if fields:
        raise AppError(RequestError.VALIDATION_ERROR,
                       details={"fields": {name: [UNSTORABLE_MESSAGE] for name in fields}})


def unstorable_fields(pairs) -> list[str]:
    """The names of the (name, value) pairs that hold text no database can store."""
    return [name for name, value in pairs if _unstorable(name) or _unstorable(value)]


def _unstorable_body_fields(raw: bytes) -> list[str]:
    try:
        body = json.loads(raw)
    except RecursionError:
        raise AppError(RequestError.BAD_REQUEST, details={"fields": {"json": ["Invalid JSON body."]}}) from None
    except ValueError:
        return []  # malformed JSON: the view's argument parser answers it
    if isinstance(body, dict):
        return [_encodable(name) for name, value in body.items() if _unstorable(name) or _unstorable(value)]
    return ["_schema"] if _unstorable(body) else []


def _encodable(name: str) -> str:
    """The field's name as the reply can carry it: a surrogate in it, escaped (\\ud800)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _unstorable(value) -> bool:
    pending = [value]
    while pending:  # iterative: the JSON may be nested close to the recursion limit
        item = pending.pop()
        if isinstance(item, str) and _UNSTORABLE.search(item):
            return True
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return False
