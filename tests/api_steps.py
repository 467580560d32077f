"""Steps the API tests take again and again: a purchase, a refund, an error's code."""
import time
import uuid
from contextlib import nullcontext

from flask import has_app_context
from sqlalchemy import select

from app.extensions import db
from app.member_row import Member
from app.members.code import STALE_STEPS, current_code
from app.members.models import TierChange
from app.messaging.models import OutboxEvent
from tests.helpers import assert_ledger_consistent

LOOKUP = "/api/v1/staff/member-lookups"
PURCHASES = "/api/v1/staff/purchases"


def error_code(reply) -> str:
    return reply.json["error"]["code"]


def _reading(app):
    """An app context to read in: the test's own if it pushed one (a request made meanwhile
    runs in it, and on SQLite a second context's session would wait for its transaction)."""
    return nullcontext() if has_app_context() else app.app_context()


def member_code(app, member_id: int) -> str:
    """The member's dynamic code now, as their phone shows it."""
    with _reading(app):
        return current_code(db.session.get(Member, member_id)).code


def forged_code(app, member_id: int) -> str:
    """The member's id with a one-time code that no step of the last two hours produced."""
    with _reading(app):
        member = db.session.get(Member, member_id)
        now, step = time.time(), app.config["MEMBER_CODE_STEP"]
        recent = {current_code(member, at=now - k * step).code for k in range(-1, STALE_STEPS + 1)}
    head = next(iter(recent))[:12]
    return next(code for n in range(1_000_000) if (code := f"{head}{n:06d}") not in recent)


def lookup_ticket(staff, member_id: int) -> str:
    """Staff scan the member's code: the lookup's ticket that names the member in their purchases."""
    reply = staff.post(LOOKUP, json={"code": member_code(staff.app, member_id)})
    assert reply.status_code == 200, reply.json
    return reply.json["lookup_ticket"]


def buy(staff, member_id: int, amount_fen: int, order_no: str | None = None):
    """Staff look the member up by their code, then record a purchase with the lookup's
    ticket; the purchase's reply (201 with the purchase, or the error)."""
    order_no = order_no or f"O-{uuid.uuid4().hex[:12]}"
    return staff.post(PURCHASES, json={"lookup_ticket": lookup_ticket(staff, member_id), "order_no": order_no,
                                       "amount_fen": amount_fen})


def bought(staff, member_id: int, amount_fen: int, order_no: str | None = None) -> dict:
    """A purchase that must succeed: its JSON."""
    reply = buy(staff, member_id, amount_fen, order_no)
    assert reply.status_code == 201, reply.json
    return reply.json


def refund(manager, purchase_id: int, amount_fen: int, refund_no: str | None = None):
    refund_no = refund_no or f"R-{uuid.uuid4().hex[:12]}"
    return manager.post(f"/api/v1/staff/purchases/{purchase_id}/refunds",
                        json={"refund_no": refund_no, "amount_fen": amount_fen})


def tier_history(app, member_id: int) -> list[tuple]:
    """(from tier id, to tier id, reason) of every tier change, and the outbox events, oldest first."""
    with app.app_context():
        changes = db.session.execute(
            select(TierChange.from_tier_id, TierChange.to_tier_id, TierChange.reason)
            .where(TierChange.member_id == member_id).order_by(TierChange.id)
        ).all()
        events = db.session.execute(
            select(OutboxEvent.kind, OutboxEvent.payload).where(OutboxEvent.member_id == member_id)
            .order_by(OutboxEvent.id)
        ).all()
    return [tuple(change) for change in changes], [tuple(event) for event in events]


def consistent_ledger(app, member_id: int) -> dict:
    """Balance = Σ entries = Σ open lots (or negative with none), growth = Σ growth entries."""
    with app.app_context():
        return assert_ledger_consistent(member_id)
