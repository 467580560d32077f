"""Task progress driven by domain events, in the event's own transaction.

Which event moves which task kind:
  complete_profile  1 once nickname, gender and birthday are all set  (member.profile_saved)
  bind_phone        1                                                   (member.phone_bound)
  first_purchase    1 on the member's first recorded purchase ever      (purchase.recorded)
  purchases         +1 per recorded purchase                            (purchase.recorded)
  checkin_streak    the longest run of consecutive checked days reached
                    in the period, makeups included                     (checkin.recorded)
  mall_redeem       +1 per redemption                                   (mall.redeemed)
  invite_friends    +1 per rewarded invitation, for the inviter         (referral.rewarded)
Progress never goes down within a period; an `auto_pay` task pays on completion.
"""
from sqlalchemy import select

from app.clock import now, today
from app.db_helpers import insert_ignoring_conflict
from app.engagement.checkin import run_length
from app.engagement.models import TaskProgress
from app.engagement.tasks import live_tasks, pay_once, period_of
from app.extensions import db
from app.member_row import lock_member


def advance(member_id: int, kind: str, add: int = 0, reach: int = 0) -> None:
    """Add `add` to, or raise to at least `reach`, the member's progress on live tasks of `kind`."""
    tasks = live_tasks(kind)
    if not tasks:
        return
    lock_member(member_id)  # serializes this member's progress: the read-modify-write below is safe
    day = today()
    for task in tasks:
        period = period_of(task.recurrence, day)
        keys = {"task_id": task.id, "member_id": member_id, "period": period}
        insert_ignoring_conflict(TaskProgress, {**keys, "progress": 0}, list(keys))
        row = db.session.execute(select(TaskProgress).filter_by(**keys)
                                 .execution_options(populate_existing=True)).scalar_one()
        value = max(row.progress + add, reach)
        if value != row.progress:
            row.progress, row.updated_at = value, now()
            if value >= task.target and row.completed_at is None:
                row.completed_at = now()
        db.session.flush()
        if task.auto_pay and row.progress >= task.target:
            pay_once(task, member_id, period, automatic=True)


def on_profile_saved(member) -> None:
    if member.nickname and member.gender != "unknown" and member.birthday:
        advance(member.id, "complete_profile", reach=1)


def on_phone_bound(member) -> None:
    advance(member.id, "bind_phone", reach=1)


def on_purchase_recorded(purchase, first: bool) -> None:
    advance(purchase.member_id, "purchases", add=1)
    if first:
        advance(purchase.member_id, "first_purchase", reach=1)


def on_checkin_recorded(member, checkin) -> None:
    advance(member.id, "checkin_streak", reach=run_length(member.id, checkin.day))


def on_mall_redeemed(order) -> None:
    advance(order.member_id, "mall_redeem", add=1)


def on_referral_rewarded(referral) -> None:
    advance(referral.inviter_id, "invite_friends", add=1)
