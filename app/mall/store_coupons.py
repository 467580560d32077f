"""The coupons a store hands out (扫码领券).

A member who opens a store's mini-program code is attributed to it (app/stores) and
sees the store's coupons; they may claim one only after opening that store's code (a
recorded visit), and the template's limits apply as to any issue (total and per member).
"""
from dataclasses import dataclass

from sqlalchemy import delete, select

from app.clock import now
from app.db_helpers import insert_ignoring_conflict
from app.errors import AppError, StoreError, StoreVisitError
from app.extensions import db
from app.mall.coupons import closed, get_template, issue_coupon, left_to_issue
from app.mall.models import FROM_STORE_CLAIM, Coupon, CouponTemplate, StoreCouponOffer
from app.stores.attribution import has_visited, record_visit
from app.stores.models import Store
from app.stores.qr import store_for_scene


@dataclass(frozen=True)
class StoreOffer:
    template: CouponTemplate
    available: bool  # active, within its dates and not all issued


@dataclass(frozen=True)
class Visit:
    store: Store
    home_store_id: int
    offers: list[StoreOffer]


def _available(template: CouponTemplate) -> bool:
    return not closed(template, now()) and left_to_issue(template) != 0


def store_offers(store_id: int) -> list[StoreOffer]:
    offers = db.session.execute(select(StoreCouponOffer).where(StoreCouponOffer.store_id == store_id)
                                .order_by(StoreCouponOffer.template_id)).scalars()
    return [StoreOffer(offer.template, _available(offer.template)) for offer in offers]


def open_store_code(member_id: int, scene: str) -> Visit:
    """A member opened a store's code: record the visit and show what the store offers."""
    store = store_for_scene(scene)
    home = record_visit(member_id, store)
    return Visit(store, home.store_id, store_offers(store.id))


def claim(member_id: int, store_id: int, template_id: int) -> Coupon:
    offered = db.session.get(StoreCouponOffer, (store_id, template_id))
    if offered is None:
        raise AppError(StoreVisitError.STORE_OFFER_NOT_FOUND)
    if not has_visited(member_id, store_id):
        raise AppError(StoreVisitError.STORE_NOT_VISITED)
    return issue_coupon(template_id, member_id, FROM_STORE_CLAIM, actor=f"member:{member_id}",
                        ref=f"store:{store_id}", store_id=store_id)


def add_offer(store_id: int, template_id: int) -> list[StoreOffer]:
    if db.session.get(Store, store_id) is None:
        raise AppError(StoreError.STORE_NOT_FOUND)
    get_template(template_id)
    insert_ignoring_conflict(StoreCouponOffer, {"store_id": store_id, "template_id": template_id},
                             ["store_id", "template_id"])
    return store_offers(store_id)


def remove_offer(store_id: int, template_id: int) -> None:
    removed = db.session.execute(delete(StoreCouponOffer).where(
        StoreCouponOffer.store_id == store_id, StoreCouponOffer.template_id == template_id)).rowcount
    if not removed:
        raise AppError(StoreVisitError.STORE_OFFER_NOT_FOUND)
