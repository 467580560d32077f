"""Redeeming items for points (积分兑换), and shipping or cancelling the orders.

A redemption runs in the request's one transaction, in this order:
1. the member's row lock (every writer of a member's points takes it first), then the
   item's rules for this member (sale window, member day, tier, stock as read, and the
   per-member limit counted under the lock: no twin request in between);
2. the order, then the points debit from lots earliest-expiry first, keyed
   `mall_order:<id>` (the ledger refuses a second debit for the same order);
3. the coupon (coupon items, within the template's own limits) or the wait for shipping
   (physical items); virtual items complete at once;
4. `mall.redeemed` for the domains that react, and the outbox event `mall_redeemed`
   (the member's "兑换成功" message), in the same transaction;
5. last, one unit of stock by a guarded UPDATE (… WHERE stock >= 1; unlimited stock is
   not touched). The item's row is the one every redemption of it wants: taken last, it
   is held only from this statement to the commit, so redemptions of a hot item queue
   for milliseconds, not for the whole request. (Lock order: member, then item.)
Any refusal raises; the request's rollback then leaves nothing behind: no order, no
ledger entry, no stock taken, no coupon.

Cancelling (member or operator) is for physical orders that have not shipped. The
order's guarded UPDATE (… WHERE state = 'awaiting_shipment') lets exactly one of two
concurrent cancels (or a cancel and a shipping) through; only that one gives back the
points (`refund_debit`: new lots with the consumed lots' expiry dates) and the stock.
Lock order: member, order, item.
"""
from sqlalchemy import bindparam, update

from app.clock import local_date, now
from app.db_helpers import newest_first, written
from app.errors import AppError, MallError
from app.events import emit
from app.extensions import db
from app.mall.coupons import issue_to_locked_member
from app.mall.items import Offer, get_item, make_offer, redeemed_counts
from app.mall.models import (
    AWAITING_SHIPMENT,
    CANCELLED,
    COMPLETED,
    COUPON_ITEM,
    FROM_REDEMPTION,
    PHYSICAL,
    SHIPPED,
    MallItem,
    MallOrder,
)
from app.member_row import lock_member
from app.messaging.kinds import EventKind
from app.messaging.service import record_event
from app.points import service as ledger


def _order_ref(order_id: int) -> str:
    return f"mall_order:{order_id}"


def _redeemable(offer: Offer) -> Offer:
    if not offer.redeemable:
        raise offer.refusal.error()
    return offer


def redeem(member_id: int, item_id: int, ship_to: dict | None = None) -> MallOrder:
    """`ship_to`: a physical item's address (the API's ShipToSchema gives it normalized)."""
    item = get_item(item_id, for_members=True)
    at = now()
    member = lock_member(member_id)
    redeemed = redeemed_counts(member.id, [item], at)[item.id] if item.per_member_limit is not None else 0
    offer = _redeemable(make_offer(item, member, at, redeemed, points=None))
    if item.kind == PHYSICAL and not ship_to:
        raise AppError(MallError.ADDRESS_REQUIRED)
    order = written(MallOrder(member_id=member.id, item_id=item.id, item=item, points=offer.price_points, created_at=at,
                              state=AWAITING_SHIPMENT if item.kind == PHYSICAL else COMPLETED,
                              ship_to=ship_to if item.kind == PHYSICAL else None))
    ref = _order_ref(order.id)
    ledger.debit_points(member.id, offer.price_points, ledger.Posting(kind="mall_redeem", key=ref, ref=ref))
    if item.kind == COUPON_ITEM:
        order.coupon = issue_to_locked_member(item.coupon_template, member.id, FROM_REDEMPTION,
                                              actor=f"member:{member.id}", ref=ref)
        db.session.flush()
    emit("mall.redeemed", order=order)
    record_event(EventKind.MALL_REDEEMED, member.id, {
        "order_id": order.id, "item_name": item.name, "points": order.points,
        "points_left": member.points_balance, "redeemed_on": local_date(at).isoformat(),
    })
    _take_stock(item)
    return order


_TAKE_ONE = (update(MallItem).where(MallItem.id == bindparam("item_id"), MallItem.stock >= 1)
             .values(stock=MallItem.stock - 1))  # built once: building costs more than running


def _take_stock(item: MallItem) -> None:
    if item.stock is None:
        return
    if db.session.connection().execute(_TAKE_ONE, {"item_id": item.id}).rowcount != 1:
        raise AppError(MallError.ITEM_OUT_OF_STOCK)


def _get_order(order_id: int, member_id: int | None = None) -> MallOrder:
    """An order; with member_id, only that member's (another's reads as not found)."""
    order = db.session.get(MallOrder, order_id)
    if order is None or (member_id is not None and order.member_id != member_id):
        raise AppError(MallError.MALL_ORDER_NOT_FOUND)
    return order


def _move(order: MallOrder, to_state: str, error: str, **values) -> None:
    """Move an order awaiting shipment on, guarded so that only one move ever succeeds."""
    moved = db.session.execute(
        update(MallOrder).where(MallOrder.id == order.id, MallOrder.state == AWAITING_SHIPMENT)
        .values(state=to_state, **values).execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(order)
    if not moved:
        raise AppError(error, details={"state": order.state})


def cancel_order(order_id: int, actor: str, reason: str | None = None, member_id: int | None = None) -> MallOrder:
    """Cancel a physical order before it ships: its points and its unit of stock come back once."""
    order = _get_order(order_id, member_id)
    lock_member(order.member_id)
    _move(order, CANCELLED, MallError.MALL_ORDER_NOT_CANCELLABLE, cancelled_at=now(), cancelled_by=actor,
          cancel_reason=reason)
    ref = _order_ref(order.id)
    ledger.refund_debit(ref, ledger.Posting(kind="mall_refund", key=f"{ref}:refund", ref=ref, actor=actor,
                                            reason=reason))
    db.session.execute(
        update(MallItem).where(MallItem.id == order.item_id, MallItem.stock.is_not(None))
        .values(stock=MallItem.stock + 1).execution_options(synchronize_session=False))
    return order


def ship_order(order_id: int, carrier: str, tracking_no: str) -> MallOrder:
    """Mark a physical order shipped and queue the member's message (outbox `order_shipped`)."""
    order = _get_order(order_id)
    at = now()
    _move(order, SHIPPED, MallError.MALL_ORDER_NOT_SHIPPABLE, carrier=carrier, tracking_no=tracking_no, shipped_at=at)
    record_event(EventKind.ORDER_SHIPPED, order.member_id, {
        "order_id": order.id, "item_name": order.item.name, "points": order.points,
        "carrier": carrier, "tracking_no": tracking_no, "shipped_on": local_date(at).isoformat(),
    })
    db.session.flush()
    return order


def member_order(member_id: int, order_id: int) -> MallOrder:
    return _get_order(order_id, member_id)


def get_order(order_id: int) -> MallOrder:
    return _get_order(order_id)


def orders_page(after_id: int | None, limit: int, member_id: int | None = None,
                state: str | None = None) -> list[MallOrder]:
    """Newest first: one member's orders, or (operators) everyone's, optionally in one state."""
    return newest_first(MallOrder, after_id, limit, member_id=member_id, state=state)
