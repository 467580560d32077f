"""Steps the engagement tests share: local times, rules, check-ins and what the ledger holds."""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.api.engagement_schemas import CheckinRulesSchema, ReferralRulesSchema
from app.engagement import settings
from app.extensions import db
from app.operators.models import Operator
from app.points import service as ledger
from app.points.models import LedgerEntry
from app.security import ADMIN
from tests.api_routes import token
from tests.helpers import Caller

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHECKINS = "/api/v1/member/checkins"
MAKEUPS = "/api/v1/member/checkins/makeups"
CALENDAR = "/api/v1/member/checkins/calendar"
CHECKIN_RULES = "/api/v1/admin/checkin-rules"
REFERRAL_RULES = "/api/v1/admin/referral-rules"
TASKS = "/api/v1/admin/tasks"
MEMBER_TASKS = "/api/v1/member/tasks"

BASE_CHECKIN_RULES = {
    "daily_points": 5, "daily_growth": 1, "streak_rewards": [{"day": 3, "points": 10, "growth": 2}],
    "cycle_days": None, "makeup_window_days": 7, "makeup_cost_points": 20, "makeup_monthly_quota": 2,
}
BASE_REFERRAL_RULES = {
    "qualify_on": "phone_bound", "inviter": {"points": 100, "growth": 10}, "invitee": {"points": 50, "growth": 0},
    "daily_cap": None, "monthly_cap": None, "reversal_window_days": 7,
}


def local(text: str) -> datetime:
    """A wall-clock time in Shanghai, e.g. local("2026-03-02 23:59:59")."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def save_rules(app, schema, base: dict, **changes) -> None:
    """Save rules as the admin endpoint does (validated by its schema), without a login."""
    with app.app_context():
        settings.save(schema().load({**base, **changes}))
        db.session.commit()


def checkin_rules(app, **changes) -> None:
    save_rules(app, CheckinRulesSchema, BASE_CHECKIN_RULES, **changes)


def referral_rules(app, **changes) -> None:
    save_rules(app, ReferralRulesSchema, BASE_REFERRAL_RULES, **changes)


def check_in(member):
    return member.post(CHECKINS)


def checked_in(member) -> dict:
    reply = check_in(member)
    assert reply.status_code == 201, reply.json
    return reply.json


def make_up(member, day: str, pay_with: str = "points"):
    return member.post(MAKEUPS, json={"day": day, "pay_with": pay_with})


def operator(app) -> Caller:
    """An operator caller whose token is issued directly (a login costs a password hash)."""
    with app.app_context():
        operator_id = db.session.execute(select(Operator.id)).scalar_one()
    return Caller(app, token(app, ADMIN, operator_id), logged_in=True)


def create_task(world, **fields) -> dict:
    reply = operator(world.app).post(TASKS, json={"title": "任务", "reward_points": 10, **fields})
    assert reply.status_code == 201, reply.json
    return reply.json


def member_task(member, task_id: int) -> dict:
    return next(task for task in member.get(MEMBER_TASKS).json["items"] if task["id"] == task_id)


def add_points(app, member_id: int, delta: int) -> None:
    with app.app_context():
        ledger.adjust_points(member_id, delta, actor="test", reason="测试准备")
        db.session.commit()


def entries(app, member_id: int, kind: str | None = None, account: str = "points") -> list[int]:
    """The deltas of the member's ledger entries (of one kind), oldest first."""
    with app.app_context():
        stmt = select(LedgerEntry.delta).where(LedgerEntry.member_id == member_id, LedgerEntry.account == account)
        if kind is not None:
            stmt = stmt.where(LedgerEntry.kind == kind)
        return list(db.session.execute(stmt.order_by(LedgerEntry.id)).scalars())


def count(app, model, **where) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).filter_by(**where)).scalar_one()
