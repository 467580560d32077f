"""One transaction per write request, made safe to retry with an `Idempotency-Key`.

Every state-changing view is wrapped in `@mutation`: the view's service calls flush,
and the wrapper commits once at the end or rolls everything back on an error.

With an `Idempotency-Key` header, the request's first write in that transaction claims
the key: a row unique per caller and key, inserted unless it exists. Then:
- the same key again after success replays the stored reply (`Idempotent-Replayed: true`);
- the same key with another method, path or body is refused (422 IDEMPOTENCY_KEY_REUSED);
- the same key while the first request still runs is refused at once (409
  IDEMPOTENCY_IN_FLIGHT) rather than left waiting: a client retrying in a loop must not
  pin one worker per retry. On PostgreSQL the claim is taken only with a transaction
  advisory lock on the key (pg_try_advisory_xact_lock, which never waits); a twin that
  cannot get it finds no committed record, and that is the in-flight case. SQLite runs
  one writer at a time, so there a twin waits its turn and then replays.
The claim and the reply live and die with the business writes: a failed request, or a
process that dies mid-request, rolls its claim back with everything else, so the key is
free for a corrected retry, and no committed claim is ever left without its reply.
"""
import functools
import hashlib
import json
from datetime import datetime

from flask import Response, g, request
from sqlalchemy import JSON, String, UniqueConstraint, bindparam, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.db_helpers import insert_or_nothing
from app.errors import AppError
from app.extensions import db
from app.types import BigId, UtcDateTime

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))  # whose key: "member:7", "staff:2", "anon"
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]  # None only inside the claiming request's transaction
    body: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)


def mutation(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()):  # PG stores no NUL
            raise AppError("IDEMPOTENCY_KEY_INVALID", details={"max_length": MAX_KEY_LENGTH})
        scope = getattr(g, "scope", "anon")
        try:
            if key is not None and (replay := _claim(scope, key, _fingerprint())) is not None:
                db.session.commit()
                return replay
            response = view(*args, **kwargs)
            if key is not None:
                reply = {"of_scope": scope, "of_key": key, "status_code": response.status_code,
                         "body": response.get_json()}
                db.session.connection().execute(_STORE_REPLY, reply)
            db.session.commit()
            return response
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


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
    record = db.session.execute(select(IdempotencyRecord).where(
        IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)).scalar_one_or_none()
    if record is None:  # not committed: its request holds the key's lock
        raise AppError("IDEMPOTENCY_IN_FLIGHT")
    if record.fingerprint != fingerprint:
        raise AppError("IDEMPOTENCY_KEY_REUSED")
    replay = Response(json.dumps(record.body, ensure_ascii=False), status=record.status_code,
                      mimetype="application/json")
    replay.headers["Idempotent-Replayed"] = "true"
    return replay
