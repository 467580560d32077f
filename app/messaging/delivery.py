"""Sending one logged message to WeChat: at most once per (event, member, template).

The guarantee is AT MOST ONCE around the WeChat call. WeChat's subscribeMessage.send has
no idempotency key, so once a request may have reached WeChat we never send it again:

1. Claim (its own committed transaction): a guarded UPDATE moves the message from
   pending/retrying to `sending`, counts the attempt and records which job holds it
   (`claimed_by`). The first claim also takes one acceptance from the member's quota
   (none left → `skipped` NO_QUOTA, nothing sent).
2. Call WeChat with no transaction open.
3. Record the answer (its own transaction), guarded by the claim:
   - delivered → `sent`;
   - WeChat answered that it did not deliver, and trying later may help (-1 busy,
     45009/45011 limits, a token error after one refresh) or we never connected
     (refused, connect timeout) → `retrying`, quota still held, and the job raises so
     RQ retries it with backoff; on the last attempt → `failed` with the code, quota
     given back;
   - 43101 → `failed`, quota set to 0; any other errcode (47003, 40003, …) → `failed`
     with that code, quota given back (WeChat did not use the acceptance);
   - no answer after the request went out (read timeout, connection dropped, an HTTP
     error status) → `unconfirmed`: it may have been delivered, so it is not retried.
A worker that dies between 1 and 3 leaves the message `sending`. RQ re-runs the same job
(same id) only after that execution ended, so a job that finds its own claim still
`sending` knows the earlier try died with the outcome unknown and marks it
`unconfirmed` instead of sending again. A claim held by another job is left alone; the
dispatcher's sweep marks claims older than MESSAGE_SEND_LEASE `unconfirmed`.

So: no message is ever sent twice, none is sent without quota, and a message can be
lost only in the unconfirmed case (a crash or timeout in the middle of the call), where
it is logged as such. The unique key (event, member, template) on the log makes the
same event produce one message per member and template whoever dispatches it.
"""
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import bindparam, select, update

from app.clock import now
from app.errors import AppError, WechatError
from app.extensions import db
from app.messaging import subscriptions
from app.messaging.models import (
    FAILED,
    FINAL,
    PENDING,
    RETRYING,
    SENDING,
    SENT,
    SKIPPED,
    UNCONFIRMED,
    Message,
)
from app.wechat import get_wechat
from app.wechat.client import SUBSCRIPTION_REFUSED


class Outcome(str, Enum):
    SENT = SENT
    SKIPPED = SKIPPED
    FAILED = FAILED
    UNCONFIRMED = UNCONFIRMED
    RETRY = "retry"  # transient failure: the caller should try again later
    BUSY = "busy"  # another job holds the claim
    DONE = "done"  # already final before this attempt


@dataclass(frozen=True)
class _Claimed:
    member_id: int
    template_id: str
    openid: str
    page: str | None
    data: dict


def deliver(message_id: int, attempt: str, last_attempt: bool) -> Outcome:
    """Claim, send and record one message; `attempt` names the job (stable across its retries)."""
    claimed = _claim(message_id, attempt)
    db.session.commit()
    if not isinstance(claimed, _Claimed):
        return claimed
    try:
        get_wechat().send_subscribe_message(claimed.openid, claimed.template_id, claimed.data, claimed.page)
    except AppError as error:
        outcome = _record_failure(message_id, attempt, claimed, error, last_attempt)
    else:
        _finish(message_id, attempt, SENT)
        outcome = Outcome.SENT
    db.session.commit()
    return outcome


# Built once (building a statement costs more than running it): every send runs them,
# on the session's connection.
_MESSAGES = Message.__table__
_CLAIM = (
    update(_MESSAGES).where(Message.id == bindparam("message_id"), Message.status.in_((PENDING, RETRYING)))
    .values(status=SENDING, attempts=Message.attempts + 1, claimed_by=bindparam("attempt"),
            claimed_at=bindparam("at"), updated_at=bindparam("at"))
    .returning(Message.member_id, Message.template_id, Message.openid, Message.page, Message.data,
               Message.quota_held)
)
_HOLD_QUOTA = update(_MESSAGES).where(Message.id == bindparam("message_id")).values(quota_held=True)
_FINISH = (
    update(_MESSAGES)
    .where(Message.id == bindparam("message_id"), Message.claimed_by == bindparam("attempt"),
           Message.status.in_((SENDING, UNCONFIRMED)))
    .values(status=bindparam("outcome"), error_code=bindparam("code"), error_message=bindparam("text"),
            updated_at=bindparam("at"), finished_at=bindparam("finished_at"))
)


def _claim(message_id: int, attempt: str) -> "_Claimed | Outcome":
    connection = db.session.connection()
    row = connection.execute(_CLAIM, {"message_id": message_id, "attempt": attempt, "at": now()}).first()
    if row is None:
        return _not_claimable(message_id, attempt)
    if not row.quota_held:
        if not subscriptions.take(row.member_id, row.template_id):
            _finish(message_id, attempt, SKIPPED, "NO_QUOTA", "no subscription left for this template")
            return Outcome.SKIPPED
        connection.execute(_HOLD_QUOTA, {"message_id": message_id})
    return _Claimed(row.member_id, row.template_id, row.openid, row.page, row.data)


def _not_claimable(message_id: int, attempt: str) -> Outcome:
    status, claimed_by = db.session.execute(
        select(Message.status, Message.claimed_by).where(Message.id == message_id)).one()
    if status in FINAL:
        return Outcome.DONE
    if status == SENDING and claimed_by == attempt:
        # this job's own earlier try died mid-call: it may have been delivered
        _finish(message_id, attempt, UNCONFIRMED, "OUTCOME_UNKNOWN", "the sending worker stopped mid-call")
        return Outcome.UNCONFIRMED
    return Outcome.BUSY


def _record_failure(message_id: int, attempt: str, claimed: _Claimed, error: AppError,
                    last_attempt: bool) -> Outcome:
    errcode = error.details.get("errcode")
    code = str(errcode) if errcode is not None else str(error.details.get("transport", error.code))
    message = str(error.details.get("errmsg") or error.message)[:200]
    unavailable = error.code == WechatError.WECHAT_UNAVAILABLE
    if unavailable and errcode is None and error.details.get("request_sent") is not False:
        _finish(message_id, attempt, UNCONFIRMED, code, message)
        return Outcome.UNCONFIRMED
    if unavailable and not last_attempt:
        _finish(message_id, attempt, RETRYING, code, message, final=False)
        return Outcome.RETRY
    if _finish(message_id, attempt, FAILED, code, message):
        if errcode == SUBSCRIPTION_REFUSED:
            subscriptions.refused(claimed.member_id, claimed.template_id)
        else:
            subscriptions.give_back(claimed.member_id, claimed.template_id)
    return Outcome.FAILED


def _finish(message_id: int, attempt: str, status: str, code: str | None = None, message: str | None = None,
            final: bool = True) -> bool:
    """Record the attempt's result if it still holds the claim (a late answer may correct
    an `unconfirmed` set by the sweep). True if recorded."""
    at = now()
    return db.session.connection().execute(_FINISH, {
        "message_id": message_id, "attempt": attempt, "outcome": status, "code": code, "text": message,
        "at": at, "finished_at": at if final else None,
    }).rowcount == 1
