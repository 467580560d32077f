"""One transaction per write request, made safe to retry with an `Idempotency-Key`.

Every state-changing view is wrapped in `@mutation`: the view's service calls flush,
and the wrapper commits once at the end or rolls everything back on an error.

With an `Idempotency-Key` header, the key is first claimed in a short transaction of
its own (a unique row per caller and key). Then:
- the same key again after success replays the stored reply (`Idempotent-Replayed: true`);
- the same key with another method, path or body is refused (422 IDEMPOTENCY_KEY_REUSED);
- the same key while the first request still runs is refused (409 IDEMPOTENCY_IN_FLIGHT).
The reply is stored in the same transaction as the business writes, so both land or
neither. A failed request releases its key, so a corrected retry may use it again. A
claim left by a crashed process is taken over once it is older than STALE_AFTER; should
the original request still be alive, it finds its claim gone when it ends and rolls back
(409), so a key is acted on at most once.
"""
import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Response, g, request
from sqlalchemy import JSON, String, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.db_helpers import insert_ignoring_conflict
from app.errors import AppError
from app.extensions import db
from app.types import BigId, UtcDateTime

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128
STALE_AFTER = timedelta(minutes=2)
RUNNING, DONE = "running", "done"


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))  # whose key: "member:7", "staff:2", "anon"
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(8))
    status_code: Mapped[int | None]
    body: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class Claim:
    """A request's hold on its key. `claimed_at` fences it: a takeover changes it."""

    record_id: int
    claimed_at: datetime


def mutation(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return _in_transaction(view, args, kwargs)
        if not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()):  # PostgreSQL cannot store a NUL
            raise AppError("IDEMPOTENCY_KEY_INVALID", details={"max_length": MAX_KEY_LENGTH})
        claim, replay = _claim(getattr(g, "scope", "anon"), key, _fingerprint())
        if replay is not None:
            return replay
        return _in_transaction(view, args, kwargs, claim)

    return wrapper


def _in_transaction(view, args, kwargs, claim: Claim | None = None):
    try:
        response = view(*args, **kwargs)
        if claim is not None:
            _store_reply(claim, response)
        db.session.commit()
        return response
    except BaseException:
        db.session.rollback()
        if claim is not None:  # release the key: nothing was done under it
            db.session.execute(delete(IdempotencyRecord).where(*_still_held(claim)))
            db.session.commit()
        raise


def _still_held(claim: Claim) -> tuple:
    return (IdempotencyRecord.id == claim.record_id, IdempotencyRecord.state == RUNNING,
            IdempotencyRecord.started_at == claim.claimed_at)


def _store_reply(claim: Claim, response: Response) -> None:
    """Mark the key done with this reply, in the business transaction, if it is still ours.

    A request that outlived STALE_AFTER may have lost its claim to a taker: then the
    taker's work stands and ours must roll back, or the key would be acted on twice.
    """
    stored = db.session.execute(update(IdempotencyRecord).where(*_still_held(claim)).values(
        state=DONE, status_code=response.status_code, body=response.get_json())).rowcount == 1
    if not stored:
        raise AppError("IDEMPOTENCY_IN_FLIGHT")


def _fingerprint() -> str:
    body = request.get_data()
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), body])).hexdigest()


def _claim(scope: str, key: str, fingerprint: str) -> tuple[Claim | None, Response | None]:
    """Claim the key for this request, or the reply to give instead."""
    record = None
    while record is None:  # None: a failed request released the key between our two statements
        values = {"scope": scope, "key": key, "fingerprint": fingerprint, "state": RUNNING, "started_at": now()}
        inserted = insert_ignoring_conflict(IdempotencyRecord, values, ["scope", "key"])
        record = db.session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        ).scalar_one_or_none()
    claim = Claim(record.id, record.started_at)
    state, body, status = record.state, record.body, record.status_code
    stale = record.started_at < now() - STALE_AFTER
    same_request = record.fingerprint == fingerprint
    db.session.commit()
    if inserted:
        return claim, None
    if not same_request:
        raise AppError("IDEMPOTENCY_KEY_REUSED")
    if state == DONE:
        replay = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
        replay.headers["Idempotent-Replayed"] = "true"
        return None, replay
    if stale and (taken := _take_over(claim)):
        return taken, None
    raise AppError("IDEMPOTENCY_IN_FLIGHT")


def _take_over(claim: Claim) -> Claim | None:
    """Re-claim a running record whose request died; guarded so only one taker wins."""
    at = now()
    taken = db.session.execute(
        update(IdempotencyRecord)
        .where(*_still_held(claim), IdempotencyRecord.started_at < at - STALE_AFTER)
        .values(started_at=at)
    ).rowcount == 1
    db.session.commit()
    return Claim(claim.record_id, at) if taken else None
