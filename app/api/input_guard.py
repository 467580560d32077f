"""What the schemas cannot see, checked for every routed API request before its view.

- A body in another media type than JSON would be read as no body at all (a PATCH
  answering 200 having saved nothing): 415 UNSUPPORTED_MEDIA_TYPE.
- JSON nested deeper than Python's recursion limit fails to parse with a RecursionError,
  not a decode error: answered like any malformed JSON (400 BAD_REQUEST).
- PostgreSQL cannot store a NUL character in text: a string holding one, in the body, the
  query or the path, is a 422 VALIDATION_ERROR naming the field, on both databases.
"""
import json

from flask import request

from app.errors import AppError

NUL_MESSAGE = "Must not contain NUL characters."


def check_request_input() -> None:
    if request.url_rule is None:
        return  # routing failed: the 404 or 405 answers
    params = [*request.args.items(multi=True), *(request.view_args or {}).items()]
    fields = [name for name, value in params if _holds_nul(name) or _holds_nul(value)]
    raw = request.get_data(cache=True)
    if raw:
        if not request.is_json:
            raise AppError("UNSUPPORTED_MEDIA_TYPE", details={"content_type": request.mimetype})
        fields += _body_fields_with_nul(raw)
    if fields:
        raise AppError("VALIDATION_ERROR", details={"fields": {name: [NUL_MESSAGE] for name in fields}})


def _body_fields_with_nul(raw: bytes) -> list[str]:
    try:
        body = json.loads(raw)
    except RecursionError:
        raise AppError("BAD_REQUEST", details={"fields": {"json": ["Invalid JSON body."]}}) from None
    except ValueError:
        return []  # malformed JSON: the view's argument parser answers it
    if isinstance(body, dict):
        return [name for name, value in body.items() if _holds_nul(name) or _holds_nul(value)]
    return ["_schema"] if _holds_nul(body) else []


def _holds_nul(value) -> bool:
    pending = [value]
    while pending:  # iterative: the JSON may be nested close to the recursion limit
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return False
