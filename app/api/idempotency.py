"""One transaction per write request, made safe to retry with an `Idempotency-Key`.

Every state-changing view is wrapped in `@mutation`: the view's service calls flush,
and the wrapper commits once at the end or rolls everything back on an error.

With an `Idempotency-Key` header, the request's first write in that transaction claims
the key: a row unique per caller and key, inserted unless it exists. Only then is the
member's row locked for a member's own write (app/api/principals.py hold_principal). Then:
- the same key again after success replays the stored reply (`Idempotent-Replayed: true`);
- the same key with another method, path or body is refused (422 IDEMPOTENCY_KEY_REUSED);
- the same key while the first request still runs is refused at once (409
  IDEMPOTENCY_IN_FLIGHT) rather than left waiting: a client retrying in a loop must not
  pin one worker per retry. On PostgreSQL the claim is taken only with a transaction
  advisory lock on the key (pg_try_advisory_xact_lock, which never waits); a twin that
  cannot get it finds no committed record, and that is the in-flight case. It is refused
  before the member's row lock, which the first request holds. SQLite runs one writer at
  a time, so there a twin waits its turn and then replays.
The claim and the reply live and die with the business writes: a failed request, or a
process that dies mid-request, rolls its claim back with everything else, so the key is
free for a corrected retry, and no committed claim is ever left without its reply.

A view that calls WeChat before it writes is `@mutation(calls_out=True)`: it makes the call
outside any transaction and then calls begin_writes(), so a slow WeChat holds neither the
member's row lock nor, on SQLite, the database's write lock. Before the call, a stale token
is refused and a key whose reply is stored is replayed (WeChat takes each code once).

Logins are `@transaction` only, and ignore an Idempotency-Key: their replies carry a token,
which is not to be stored, and a login is idempotent by itself (one member per openid).

The records and their purge (IDEMPOTENCY_RETENTION_HOURS, a scheduled job) are app/idempotency's.
"""
import functools
import hashlib
import json

from flask import Response, g, request
from sqlalchemy import bindparam, func, select, update

from app.api.principals import check_principal, hold_principal
from app.clock import now
from app.db_helpers import end_transaction, insert_or_nothing
from app.errors import AppError, IdempotencyError
from app.extensions import db
from app.idempotency.models import MAX_KEY_LENGTH, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# The header as /openapi.json documents it among the parameters of every @mutation operation
# (app/api/blueprint.py), written out on each, as clients and generators read parameters best.
HEADER_PARAMETER = {
    "name": HEADER, "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "example": "7f3c2a9e-order-1042"},
    "description": (
        f"Makes the request safe to retry: 1 to {MAX_KEY_LENGTH} printable characters, unique per "
        "request of the caller (a UUID serves), else 400 IDEMPOTENCY_KEY_INVALID. The same key again after a success "
        f"answers the first reply, its status and body, with `{REPLAYED_HEADER}: true`, and writes "
        "nothing; with another method, path or body: 422 IDEMPOTENCY_KEY_REUSED; while the first "
        "request still runs: 409 IDEMPOTENCY_IN_FLIGHT. A failed request keeps no key. A key is kept a day "
        "by default (a deployment setting); after that it is a new request."),
}


def transaction(view):
    """The whole request in one transaction: committed at the end, rolled back on an error."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            response = view(*args, **kwargs)
            db.session.commit()
            return response
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


def mutation(view=None, *, calls_out: bool = False):
    """`@mutation`, or `@mutation(calls_out=True)` for a view that calls WeChat first and then
    begin_writes() itself."""
    if view is None:
        return functools.partial(mutation, calls_out=calls_out)

    @functools.wraps(view)
    def keyed(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()):  # PG stores no NUL
            raise AppError(IdempotencyError.IDEMPOTENCY_KEY_INVALID, details={"max_length": MAX_KEY_LENGTH})
        scope = getattr(g, "scope", "anon")
        g.unclaimed_key = (scope, key, _fingerprint() if key is not None else None)
        try:
            if not calls_out:
                begin_writes()
            elif (replay := _before_calling_out()) is not None:
                return replay
            response = view(*args, **kwargs)
        except _Replayed as replayed:
            return replayed.reply
        if key is not None:
            reply = {"of_scope": scope, "of_key": key, "status_code": response.status_code,
                     "body": response.get_json()}
            db.session.connection().execute(_STORE_REPLY, reply)
        return response

    keyed.takes_idempotency_key = True  # the document lists the IDEMPOTENCY_* codes (app/api/error_docs.py)
    return transaction(keyed)


def begin_writes() -> None:
    """The request's first writes: claim its Idempotency-Key, then lock the member of a member's
    write (hold_principal). A twin in flight is refused at the claim, never waiting for that lock."""
    scope, key, fingerprint = g.pop("unclaimed_key")
    replay = _claim(scope, key, fingerprint) if key is not None else None
    hold_principal()
    if replay is not None:
        raise _Replayed(replay)


class _Replayed(Exception):
    """The key's reply is stored: @mutation answers with it instead of the view's."""

    def __init__(self, reply: Response):
        super().__init__()
        self.reply = reply


def _before_calling_out() -> Response | None:
    """Refuse a stale token and find a stored reply to replay, then end the transaction these
    reads began."""
    check_principal()
    scope, key, fingerprint = g.unclaimed_key
    replay = _stored_reply(scope, key, fingerprint) if key is not None else None
    end_transaction()
    return replay


def _fingerprint() -> str:
    body = request.get_data()
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), body])).hexdigest()


# Built once (building a statement costs more than running it); bound by name per request.
_STORE_REPLY = (update(IdempotencyRecord.__table__)
                .where(IdempotencyRecord.scope == bindparam("of_scope"), IdempotencyRecord.key == bindparam("of_key"))
                .values(status_code=bindparam("status_code"), body=bindparam("body")))


_COLUMNS = ("scope", "key", "fingerprint", "started_at")


@functools.cache
def _claim_statement(dialect: str):
    """INSERT the claim unless the key has a record; on PostgreSQL only under the key's
    advisory lock, so that a twin in flight is skipped instead of waited for."""
    columns = [bindparam(name, type_=IdempotencyRecord.__table__.c[name].type) for name in _COLUMNS]
    claim = select(*columns)
    if dialect == "postgresql":
        claim = claim.where(func.pg_try_advisory_xact_lock(func.hashtextextended(bindparam("lock_name"), 0)))
    return (insert_or_nothing(IdempotencyRecord, ["scope", "key"], dialect).from_select(_COLUMNS, claim)
            .returning(IdempotencyRecord.id))


def _claim(scope: str, key: str, fingerprint: str) -> Response | None:
    """Claim the key for this request (None), or the reply to give instead."""
    claim = _claim_statement(db.session.get_bind().dialect.name)
    values = {"scope": scope, "key": key, "fingerprint": fingerprint, "started_at": now(),
              "lock_name": f"idempotency:{scope}:{key}"}
    if db.session.connection().execute(claim, values).first() is not None:
        return None
    replay = _stored_reply(scope, key, fingerprint)
    if replay is None:  # not committed: its request holds the key's lock
        raise AppError(IdempotencyError.IDEMPOTENCY_IN_FLIGHT)
    return replay


def _stored_reply(scope: str, key: str, fingerprint: str) -> Response | None:
    """The reply stored under the key, to replay; None if the key has no committed record."""
    record = db.session.execute(select(IdempotencyRecord).where(
        IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)).scalar_one_or_none()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise AppError(IdempotencyError.IDEMPOTENCY_KEY_REUSED)
    replay = Response(json.dumps(record.body, ensure_ascii=False), status=record.status_code,
                      mimetype="application/json")
    replay.headers[REPLAYED_HEADER] = "true"
    return replay
