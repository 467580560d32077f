"""Steps the API tests take again and again: a purchase, a refund, an error's code."""
import uuid

from sqlalchemy import select

from app.extensions import db
from app.members.models import TierChange
from app.messaging.models import OutboxEvent
from tests.helpers import assert_ledger_consistent


def error_code(reply) -> str:
    return reply.json["error"]["code"]


def buy(staff, member_id: int, amount_fen: int, order_no: str | None = None):
    """Staff record a purchase; the reply (201 with the purchase, or the error)."""
    order_no = order_no or f"O-{uuid.uuid4().hex[:12]}"
    return staff.post("/api/v1/staff/purchases",
                      json={"member_id": member_id, "order_no": order_no, "amount_fen": amount_fen})


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
