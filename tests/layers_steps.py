"""A hand-computed member set for the RFM layers and segments, and small builders for campaigns.

The run is at RUN (2026-06-15 12:00 UTC, 20:00 in Shanghai) with the defaults: a 365-day
window, new within 30 days, dormant after 180, at risk past 2 × the member's mean interval.
Each member: (days since joining, [(days before RUN, amount in yuan, refunded yuan)], tier).
"""
import itertools
import zlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from app.engagement.models import Checkin
from app.extensions import db
from app.member_row import Member
from app.purchases.models import Purchase
from app.stores.models import HomeStore

_ORDER_NUMBERS = itertools.count(1)
RUN = datetime(2026, 6, 15, 12, tzinfo=timezone.utc)

FIXTURE = {
    "whale": (400, [(1, 1000, 0), (31, 1000, 0), (61, 1000, 0), (91, 1000, 0)], "银卡"),
    "steady": (400, [(10, 500, 0), (40, 500, 0), (70, 500, 0)], "普通"),
    "lapsing": (400, [(100, 300, 0), (110, 300, 0), (120, 300, 0)], "普通"),
    "sleeper": (400, [(200, 100, 0)], "普通"),
    "ghost": (300, [], "普通"),
    "fresh": (10, [], "普通"),
    "newbuyer": (20, [(3, 200, 0)], "普通"),
    "refunded": (400, [(15, 200, 200), (400, 500, 0)], "普通"),  # refunded in full; the other is out of the window
    "occasional": (400, [(20, 100, 50)], "普通"),
    "twice": (400, [(2, 800, 0), (60, 800, 0)], "银卡"),
}

# Worked out by hand from FIXTURE (score = 1 + 5 × (rank − 1) ÷ 7 buyers, rank ascending, ties shared):
# recency rank by last purchase, oldest first: sleeper 1, lapsing 2, occasional 3, steady 4, newbuyer 5,
# twice 6, whale 7 → 1 1 2 3 3 4 5. Frequency: sleeper, occasional, newbuyer 1 (rank 1 → 1), twice 2
# (rank 4 → 3), lapsing, steady 3 (rank 5 → 3), whale 4 (rank 7 → 5). Monetary: occasional 50 yuan
# (rank 1), sleeper 100, newbuyer 200, lapsing 900, steady 1500, twice 1600, whale 4000 → 1 1 2 3 3 4 5.
EXPECTED = {  # name: (layer, R, F, M, frequency, monetary in fen)
    "whale": ("high_value", 5, 5, 5, 4, 400_000),
    "steady": ("potential", 3, 3, 3, 3, 150_000),
    "lapsing": ("at_risk", 1, 3, 3, 3, 90_000),  # 100 days since, against 2 × its 10-day interval
    "sleeper": ("dormant", 1, 1, 1, 1, 10_000),  # 200 days > 180
    "ghost": ("dormant", None, None, None, 0, 0),
    "fresh": ("new", None, None, None, 0, 0),
    "newbuyer": ("new", 3, 1, 2, 1, 20_000),
    "refunded": ("dormant", None, None, None, 0, 0),
    "occasional": ("potential", 2, 1, 1, 1, 5_000),
    "twice": ("potential", 4, 3, 4, 2, 160_000),
}


def add_member(name: str, tier_id: int, joined: datetime, points: int = 0) -> int:
    return db.session.execute(insert(Member).values(
        openid=f"openid-{name}", card_no=f"8{zlib.crc32(name.encode()):015d}", nickname=name, tier_id=tier_id,
        tier_since=joined, growth=0, points_balance=points, code_secret="0" * 40, created_at=joined,
    ).returning(Member.id)).scalar_one()


def add_purchase(member_id: int, world, at: datetime, yuan: int, refunded_yuan: int = 0) -> None:
    db.session.add(Purchase(store_id=world.stores["A"], member_id=member_id, staff_id=world.staff_ids["clerk-a"],
                            order_no=f"order-{next(_ORDER_NUMBERS)}", amount_fen=yuan * 100,
                            refunded_fen=refunded_yuan * 100, points_earned=0, growth_earned=0, created_at=at))


def build_fixture(world, run: datetime = RUN) -> dict[str, int]:
    """FIXTURE's members and purchases as of `run`, committed: name → member id."""
    ids = {}
    for name, (joined_days, purchases, tier) in FIXTURE.items():
        ids[name] = add_member(name, world.tiers[tier], run - timedelta(days=joined_days))
        for days, yuan, refunded in purchases:
            add_purchase(ids[name], world, run - timedelta(days=days), yuan, refunded)
    for name in ("whale", "steady"):
        db.session.add(HomeStore(member_id=ids[name], store_id=world.stores["A"], attributed_at=run))
    db.session.add(HomeStore(member_id=ids["twice"], store_id=world.stores["B"], attributed_at=run))
    db.session.commit()
    return ids


def add_checkins(member_id: int, days_before_today: list[int]) -> None:
    today = (RUN + timedelta(hours=8)).date()  # the business day in Shanghai
    for days in days_before_today:
        day = today - timedelta(days=days)
        db.session.add(Checkin(member_id=member_id, day=day, kind="checkin", recorded_on=day, points=0, growth=0,
                               created_at=RUN))
