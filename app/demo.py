"""Demo data for `make run`: tiers, a store with a clerk and a manager, an operator, six months
of members (app/demo_history.py), and two members of today, Alice and Bob, whose logins the
README shows; all of it through the real services (so every ledger balances)."""
from sqlalchemy import select

from app.accounts import create_account
from app.campaigns.demo import load_campaigns_demo
from app.demo_history import load_history
from app.engagement.demo import load_engagement_demo
from app.extensions import db
from app.mall.demo import load_mall_demo
from app.member_row import Tier
from app.members import service as members
from app.messaging.demo import load_messaging_demo
from app.operators.models import Operator
from app.points import service as ledger
from app.purchases import service as purchases
from app.stores.models import MANAGER, Staff, Store

TIERS = [
    # level, name, growth threshold, points multiplier %, benefits
    # (checkin_multiplier: the points multiplier applies to check-in points too, app/engagement)
    (0, "普通", 0, 100, {"discount_pct": 100, "free_shipping": False, "birthday_points": 0,
                       "checkin_multiplier": False}),
    (1, "银卡", 1000, 120, {"discount_pct": 98, "free_shipping": False, "birthday_points": 100,
                          "checkin_multiplier": False}),
    (2, "金卡", 5000, 150, {"discount_pct": 95, "free_shipping": True, "birthday_points": 300,
                          "checkin_multiplier": True}),
    (3, "钻石", 20000, 200, {"discount_pct": 90, "free_shipping": True, "birthday_points": 800,
                           "checkin_multiplier": True}),
]

LOGINS = {
    "operator": ("admin", "admin-pass-1"),
    "clerk": ("clerk1", "clerk-pass-1"),
    "manager": ("manager1", "manager-pass-1"),
}
# Member logins are wx.login codes; the built-in fake WeChat maps code X to one openid.
MEMBER_CODES = ("alice", "bob")


def load_demo_data() -> bool:
    """Load once; False if the database already has tiers. Commits as it goes."""
    if db.session.execute(select(Tier).limit(1)).first():
        return False
    for level, name, threshold, multiplier, benefits in TIERS:
        db.session.add(Tier(level=level, name=name, growth_threshold=threshold,
                            points_multiplier_pct=multiplier, benefits=benefits))
    store = Store(code="SH001", name="上海南京西路店")
    db.session.add(store)
    db.session.flush()
    create_account(Operator, *LOGINS["operator"], name="运营小王")
    load_engagement_demo()  # before the members' history, so it moves their task progress
    clerk = create_account(Staff, *LOGINS["clerk"], name="店员小李", store_id=store.id)
    manager = create_account(Staff, *LOGINS["manager"], name="店长老张", store_id=store.id, role=MANAGER)
    load_history(clerk, manager)  # six months of members, before today's Alice and Bob

    alice, _ = members.get_or_create("fake-openid-alice", "fake-unionid-alice")
    members.update_profile(alice, nickname="Alice", gender="female")
    load_messaging_demo(alice.id)  # before her purchases, so her upgrade is pushed
    for order_no, fen in (("DEMO-1001", 128_00), ("DEMO-1002", 980_00), ("DEMO-1003", 4_200_00)):
        purchases.record_purchase(clerk, alice.id, order_no, fen)
    db.session.commit()  # each member's history in its own transaction, as requests write it (the lock order)

    bob, _ = members.get_or_create("fake-openid-bob", "fake-unionid-bob")
    members.update_profile(bob, nickname="Bob", gender="male")
    purchases.record_purchase(clerk, bob.id, "DEMO-2001", 660_00)
    bought, _ = purchases.record_purchase(clerk, bob.id, "DEMO-2002", 300_00)
    purchases.refund(manager, bought.id, "DEMO-R-2002", 100_00)
    ledger.adjust_points(bob.id, 50, actor="admin:demo", reason="门店活动补偿")
    db.session.commit()
    load_mall_demo(store.id, alice.id)
    db.session.commit()
    load_campaigns_demo()  # after the purchases: the layers and a campaign's reach
    db.session.commit()
    return True
