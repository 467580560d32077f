"""Which store brought a member in.

Every opening of a store's code is recorded as a visit. The first store whose code a
member opens becomes their home store and stays so: later visits elsewhere never move
it (INSERT … ON CONFLICT DO NOTHING on the member, so two first openings at once keep one).
"""
from sqlalchemy import select

from app.clock import now
from app.db_helpers import insert_ignoring_conflict
from app.extensions import db
from app.stores.models import HomeStore, Store, StoreVisit


def record_visit(member_id: int, store: Store) -> HomeStore:
    """Record that the member opened the store's code; their home store (maybe this one)."""
    at = now()
    db.session.add(StoreVisit(member_id=member_id, store_id=store.id, visited_at=at))
    insert_ignoring_conflict(HomeStore, {"member_id": member_id, "store_id": store.id, "attributed_at": at},
                             ["member_id"])
    db.session.flush()
    return db.session.get(HomeStore, member_id)


def has_visited(member_id: int, store_id: int) -> bool:
    return db.session.execute(
        select(StoreVisit.id).where(StoreVisit.member_id == member_id, StoreVisit.store_id == store_id).limit(1)
    ).first() is not None
