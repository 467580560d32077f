"""The error codes each operation can answer, written on it in /openapi.json: `x-error-codes`
(in the catalogue's order) and one error response per HTTP status naming its codes, with the
error envelope as schema.

A view declares the codes of its own rules beside it, `@blp.errors(MallError.ITEM_OUT_OF_STOCK)`
(app/api/blueprint.py). The codes common to a kind of operation are added here, once, from what
the code around the view does:
- every API request passes the input guard (app/api/input_guard.py: a body not JSON, JSON too
  deep, text no database stores, in the query, path or body) and the body size limit, and any
  of them may find a dependency down: BAD_REQUEST, UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE,
  VALIDATION_ERROR, SERVICE_UNAVAILABLE;
- a token's blueprint (`require`, app/api/principals.py): AUTH_REQUIRED, AUTH_INVALID,
  AUDIENCE_FORBIDDEN, and for an admin view that some role may not call, ROLE_FORBIDDEN;
- `@mutation` (app/api/idempotency.py): the IDEMPOTENCY_* codes;
- `@rate_limit` (app/api/limits.py): RATE_LIMITED;
- an id in the path (app/api/converters.py): NOT_FOUND past the column's range.
tests/error_replies.py proves the lists: the suite fails on a code answered but not listed.
"""
from app.api.converters import IdConverter
from app.errors import CATALOGUE, AuthError, ErrorCode, IdempotencyError, RequestError
from app.operators.roles import ROLES, permitted
from app.security import ADMIN

EVERY_OPERATION = (RequestError.BAD_REQUEST, RequestError.UNSUPPORTED_MEDIA_TYPE, RequestError.PAYLOAD_TOO_LARGE,
                   RequestError.VALIDATION_ERROR, RequestError.SERVICE_UNAVAILABLE)
TOKEN = (AuthError.AUTH_REQUIRED, AuthError.AUTH_INVALID, AuthError.AUDIENCE_FORBIDDEN)
IDEMPOTENCY_KEY = tuple(IdempotencyError)
ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


def operation_codes(view, method: str, rule, audience: str | None) -> list[str]:
    """Every code the operation (`view` answering `method` on the werkzeug `rule`) can answer,
    in the catalogue's order; `audience` is the token its blueprint requires (None: public)."""
    codes = [*EVERY_OPERATION, *getattr(view, "error_codes", ())]
    if audience is not None:
        codes += TOKEN
        if audience == ADMIN and not all(permitted(role, method.upper(), view) for role in ROLES):
            codes.append(AuthError.ROLE_FORBIDDEN)
    if getattr(view, "takes_idempotency_key", False):
        codes += IDEMPOTENCY_KEY
    if getattr(view, "rate_limited", False):
        codes.append(RequestError.RATE_LIMITED)
    if any(isinstance(converter, IdConverter) for converter in rule._converters.values()):
        codes.append(RequestError.NOT_FOUND)
    return [code for code in CATALOGUE if code in set(codes)]


def error_responses(codes: list[str]) -> dict[str, dict]:
    """One response per status, its description naming each code and its message."""
    by_status: dict[str, list[str]] = {}
    for code in codes:
        status, message = CATALOGUE[code]
        by_status.setdefault(str(status), []).append(f"`{code}` {message}")
    return {status: {"description": "; ".join(lines), "content": {"application/json": {"schema": ENVELOPE}}}
            for status, lines in sorted(by_status.items())}


def declared(codes: tuple) -> tuple[ErrorCode, ...]:
    """A view's declared codes, refused unless each is an ErrorCode member (a typo fails at import)."""
    wrong = [code for code in codes if not isinstance(code, ErrorCode)]
    if wrong:
        raise TypeError(f"@blp.errors takes ErrorCode members, not {wrong!r}")
    return codes
