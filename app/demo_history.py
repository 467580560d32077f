"""Six months of demo history (`flask demo-data`), so that a newcomer's console is alive: about
200 members joining over the last six months (those gone dormant up to two months earlier),
purchases in three stores, check-ins, a welcome coupon (some used in store, some left to
expire) and welcome points that expired, upgrades, members gone dormant (沉睡: no purchase for
over 180 days) or at risk, a campaign two months back whose results are in, a downgrade by
refund and one by the tier review, and the scheduled jobs' runs.

Deterministic (a seeded random) and written through the services, each step as of its own
past moment (app/clock.py `at`) and committed on its own, as a request would be: one member's
step at a time, so the lock order holds.
"""
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from app.accounts import create_account
from app.campaigns.demo import load_finished_campaign
from app.clock import at, start_of_day, today
from app.engagement import checkin
from app.extensions import db
from app.mall import coupons, verification
from app.mall.models import AMOUNT_OFF, FROM_GRANT
from app.members import service as members
from app.points import service as ledger
from app.purchases import service as purchases
from app.stores.models import Staff, Store
from app.tasks import jobs

SEED = 14
MEMBERS = 200
DAYS = 182  # six months back from today
WELCOME_POINTS, WELCOME_POINTS_DAYS = 50, 30  # a welcome gift that expires unless spent
MORE_STORES = (("SH002", "上海徐家汇店", "clerk2"), ("BJ001", "北京三里屯店", "clerk3"))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
GIVEN_NAMES = ("小明", "晓雨", "子涵", "浩然", "欣怡", "宇轩", "思琪", "俊杰", "雨桐", "梓萱", "一诺", "嘉怡")
# behaviour: (weight, purchases as (first day after joining, days between), check-ins)
REGULAR, OCCASIONAL, DORMANT, CHECKER = "regular", "occasional", "dormant", "checker"
PROFILES = {REGULAR: 30, OCCASIONAL: 35, DORMANT: 15, CHECKER: 20}
JOB_EVERY_DAYS = 30  # the nightly sweeps, run once a month of the history (each catches up)

Step = tuple[datetime, int, Callable[[], None]]  # when, tie-break, what


def load_history(clerk: Staff, manager: Staff) -> None:
    """The history, the clerk's and manager's store the first of three."""
    rng = random.Random(SEED)
    clerks = [clerk] + [_store_with_clerk(*store) for store in MORE_STORES]
    welcome = coupons.create_template(name="新会员5元券", kind=AMOUNT_OFF, amount_off_fen=5_00, valid_days=30)
    db.session.commit()
    start = today() - timedelta(days=DAYS)
    steps: list[Step] = []
    for number in range(MEMBERS):
        joined = start + timedelta(days=rng.randrange(DAYS - 7))
        profile = rng.choices(list(PROFILES), weights=list(PROFILES.values()))[0]
        if profile == DORMANT:  # joined up to two months before, bought a few times, then nothing:
            joined = start - timedelta(days=rng.randrange(60))  # 沉睡 past 180 days, 流失预警 before
        steps += _member_steps(rng, number, joined, profile, clerks, welcome.id)
    steps += _review_downgrade(start, clerk)
    steps += _refund_downgrade(start, clerk, manager)
    steps += [(_moment(start + timedelta(days=day), 0, 10), -1, _nightly_jobs)
              for day in range(JOB_EVERY_DAYS, DAYS + 1, JOB_EVERY_DAYS)]
    steps.append((_moment(today() - timedelta(days=60), 9), -1, load_finished_campaign))
    for moment, _, step in sorted(steps, key=lambda step: step[:2]):
        with at(moment):
            step()
            db.session.commit()


def _store_with_clerk(code: str, name: str, username: str) -> Staff:
    store = Store(code=code, name=name)
    db.session.add(store)
    db.session.flush()
    return create_account(Staff, username, f"{username}-pass-1", name=f"{name}店员", store_id=store.id)


def _moment(day, hour: int, minute: int = 0) -> datetime:
    """That business day at that local hour."""
    return start_of_day(day) + timedelta(hours=hour, minutes=minute)


def _member_steps(rng: random.Random, number: int, joined, profile: str, clerks: list[Staff],
                  welcome_id: int) -> list[Step]:
    member = {}
    store_clerk = clerks[number % len(clerks)]
    nickname = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
    phone = f"13{number % 10}{20260000 + number:08d}" if rng.random() < 0.7 else None

    def join():
        created, _ = members.get_or_create(f"demo-openid-{number}", f"demo-unionid-{number}")
        member["id"] = created.id
        members.update_profile(created, nickname=nickname, gender=rng.choice(("male", "female", "unknown")))
        if phone:
            members.bind_phone(created, phone)
        member["coupon"] = coupons.issue_coupon(welcome_id, created.id, FROM_GRANT, actor="admin:demo").code
        ledger.credit_points(created.id, WELCOME_POINTS, ledger.Posting(
            kind="adjustment", key=f"demo-welcome-{number}", actor="admin:demo", reason="新会员礼（30天有效）"),
            expires_on=today() + timedelta(days=WELCOME_POINTS_DAYS))

    def buy(order_no: str, amount_fen: int, use_coupon: bool):
        def step():
            purchases.record_purchase(store_clerk, member["id"], order_no, amount_fen)
            if use_coupon:
                verification.confirm(store_clerk, member["coupon"], order_no, amount_fen)
        return step

    steps: list[Step] = [(_moment(joined, rng.randrange(10, 21), rng.randrange(60)), 0, join)]
    last = today() - timedelta(days=1)
    day, gaps = joined + timedelta(days=rng.randrange(1, 10)), {REGULAR: (18, 40), OCCASIONAL: (45, 100),
                                                                DORMANT: (5, 12), CHECKER: (20, 45)}[profile]
    bought = 0
    while day <= last and (profile != DORMANT or bought < 3):
        amount_fen = rng.randrange(39, 900 if profile == REGULAR else 400) * 100
        use_coupon = bought == 0 and rng.random() < 0.5 and (day - joined).days < 30
        steps.append((_moment(day, rng.randrange(11, 21), rng.randrange(60)), 1,
                      buy(f"H{number:03d}-{bought + 1}", amount_fen, use_coupon)))
        bought += 1
        day += timedelta(days=rng.randrange(*gaps))
    if profile == CHECKER:  # a run of weeks with most days checked
        first = joined + timedelta(days=rng.randrange(1, 20))
        for offset in range(rng.randrange(8, 20)):
            if (checked := first + timedelta(days=offset)) <= last and rng.random() < 0.75:
                steps.append((_moment(checked, 8, rng.randrange(60)), 2, lambda: checkin.check_in(member["id"])))
    return steps


def _review_downgrade(start, clerk: Staff) -> list[Step]:
    """A member of fourteen months reached 金卡 and has bought little since: their twelve months
    of holding it end within the history, and the review lowers them to 银卡."""
    joined, member = start - timedelta(days=240), {}

    def join():
        created, _ = members.get_or_create("demo-openid-veteran", "demo-unionid-veteran")
        member["id"] = created.id
        members.update_profile(created, nickname="老会员周先生", gender="male")

    return [(_moment(joined, 15), 0, join),
            (_moment(joined, 16), 1, lambda: purchases.record_purchase(clerk, member["id"], "H-VET-1", 5_600_00)),
            (_moment(start + timedelta(days=60), 16), 1,
             lambda: purchases.record_purchase(clerk, member["id"], "H-VET-2", 300_00))]


def _refund_downgrade(start, clerk: Staff, manager: Staff) -> list[Step]:
    """A member whose big purchase made them 金卡, then was mostly returned: back to 银卡 at once."""
    day, member = start + timedelta(days=100), {}

    def join():
        created, _ = members.get_or_create("demo-openid-returns", "demo-unionid-returns")
        member["id"] = created.id
        members.update_profile(created, nickname="退货的林女士", gender="female")

    def buy():
        member["purchase"], _ = purchases.record_purchase(clerk, member["id"], "H-RET-1", 5_200_00)

    return [(_moment(day, 12), 0, join), (_moment(day, 13), 1, buy),
            (_moment(day + timedelta(days=3), 14), 1,
             lambda: purchases.refund(manager, member["purchase"].id, "H-RET-R1", 3_000_00))]


def _nightly_jobs() -> None:
    """What the schedule would have run: points and coupons past their dates expire, tiers held
    their time are reviewed (each job records its run, and commits)."""
    jobs.expire_points()
    jobs.expire_coupons()
    jobs.review_tiers()
