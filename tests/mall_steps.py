"""Steps the mall tests share: templates and items through the admin API, points and
members written in bulk (hundreds in a blink), table counts."""
import secrets
from datetime import date

from sqlalchemy import func, insert, select

from app.errors import AppError
from app.extensions import db
from app.mall import coupons
from app.member_row import Member
from app.members.tiers import entry_tier
from app.points import service as ledger
from app.points.models import POINTS, LedgerEntry, PointLot
from app.security import MEMBER, issue_token
from app.stores.qr import scene_for
from tests.helpers import Caller

ADMIN = "/api/v1/admin"
MEMBER_API = "/api/v1/member"
STAFF_API = "/api/v1/staff"

# A physical order's address as wx.chooseAddress gives it (with the keys the order leaves out), and
# ADDRESS, what the order replies with.
ADDRESS = {"userName": "张三", "telNumber": "13800138000", "provinceName": "上海市", "cityName": "上海市",
           "countyName": "静安区", "detailInfo": "南京西路1601号", "postalCode": "200040"}
SHIP_TO = {**ADDRESS, "errMsg": "chooseAddress:ok", "nationalCode": "310106", "streetName": "南京西路街道",
           "detailInfoNew": "1601号"}


def created(reply) -> dict:
    assert reply.status_code == 201, reply.json
    return reply.json


def create_template(admin, **fields) -> dict:
    """A coupon template through the admin API; by default ¥10 off, valid 30 days, no limits."""
    body = {"name": "十元券", "kind": "amount_off", "amount_off_fen": 10_00, "valid_days": 30, **fields}
    return created(admin.post(f"{ADMIN}/coupon-templates", json=body))


def create_item(admin, **fields) -> dict:
    """A mall item through the admin API; by default a virtual item for 100 points, unlimited."""
    body = {"name": "虚拟礼品", "kind": "virtual", "price_points": 100, **fields}
    return created(admin.post(f"{ADMIN}/mall-items", json=body))


def give_points(app, member_id: int, amount: int, expires_on: date | None = None, key: str | None = None) -> None:
    with app.app_context():
        ledger.credit_points(member_id, amount, ledger.Posting(kind="test", key=key or f"gift:{member_id}:{amount}:"
                                                               f"{expires_on}"), expires_on=expires_on)
        db.session.commit()


def make_members(app, count: int, points: int = 0, prefix: str = "m") -> list[int]:
    """Members (entry tier) holding `points` each, written in three bulk INSERTs so that
    hundreds take a blink: the rows a ledger credit writes (entry, lot expiring 2099,
    cached balance), so balance = Σ entries = Σ open lots from the start."""
    with app.app_context():
        tier_id = entry_tier().id
        ids = db.session.execute(insert(Member).returning(Member.id, sort_by_parameter_order=True), [
            {"openid": f"openid-{prefix}-{i}", "card_no": f"7{secrets.randbelow(10**15):015d}",
             "code_secret": secrets.token_hex(20), "tier_id": tier_id, "points_balance": points}
            for i in range(count)]).scalars().all()
        if points:
            entries = db.session.execute(insert(LedgerEntry).returning(LedgerEntry.id, LedgerEntry.member_id), [
                {"member_id": member_id, "account": POINTS, "delta": points, "kind": "test",
                 "idempotency_key": f"seed:{member_id}"} for member_id in ids]).all()
            db.session.execute(insert(PointLot), [
                {"member_id": member_id, "entry_id": entry_id, "amount": points, "remaining": points,
                 "expires_on": date(2099, 12, 31)} for entry_id, member_id in entries])
        db.session.commit()
    return ids


def store_scene(app, store_id: int) -> str:
    """The scene of the store's mini-program code, as the app makes it."""
    with app.app_context():
        return scene_for(store_id)


def member_caller(app, member_id: int) -> Caller:
    caller = Caller(app, issue_token(app.config["SECRET_KEY"], MEMBER, member_id), logged_in=True)
    caller.member_id = member_id
    return caller


def issue(app, template_id: int, member_id: int) -> tuple[int, str]:
    """A coupon issued through the service (as a tier benefit would be): (id, code)."""
    with app.app_context():
        coupon = coupons.issue_coupon(template_id, member_id, "benefit", actor="system")
        db.session.commit()
        return coupon.id, coupon.code


def in_own_transaction(app, work):
    """work() in a fresh app context (a thread's own session), committed: its result, or
    the AppError's code after a rollback."""
    with app.app_context():
        try:
            result = work()
            db.session.commit()
            return result
        except AppError as error:
            db.session.rollback()
            return error.code


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
