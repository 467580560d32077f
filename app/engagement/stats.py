"""The numbers operators read: check-in rate and rewards per day, referral outcomes."""
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from app.clock import local_date, start_of_day, today
from app.engagement.models import CHECKIN, MAKEUP, REFUSED, REWARDED, Checkin, Referral, StreakReward
from app.errors import invalid_field
from app.extensions import db
from app.member_row import Member

MAX_DAYS = 92


def date_range(first: date | None, last: date | None) -> tuple[date, date]:
    """The business days asked for: the last 7 days by default, at most MAX_DAYS."""
    last = last or today()
    first = first or last - timedelta(days=6)
    if not first <= last <= first + timedelta(days=MAX_DAYS - 1):
        raise invalid_field("from", f"from 不能晚于 to，最多 {MAX_DAYS} 天")
    return first, last


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def checkin_numbers(first: date, last: date) -> list[dict]:
    """Per business day: check-ins, makeups (by the day made up), members who had joined by
    then, the check-in rate (check-ins / members), and the points check-in paid."""
    end = last + timedelta(days=1)
    by_kind = Counter({(day, kind): count for day, kind, count in db.session.execute(
        select(Checkin.day, Checkin.kind, func.count()).where(Checkin.day >= first, Checkin.day < end)
        .group_by(Checkin.day, Checkin.kind))})
    daily_points = dict(db.session.execute(select(Checkin.day, func.sum(Checkin.points))
                                           .where(Checkin.day >= first, Checkin.day < end).group_by(Checkin.day)).all())
    streak_points = dict(db.session.execute(select(StreakReward.reached_on, func.sum(StreakReward.points)).where(
        StreakReward.reached_on >= first, StreakReward.reached_on < end).group_by(StreakReward.reached_on)).all())
    joined_before = db.session.execute(select(func.count()).select_from(Member)
                                       .where(Member.created_at < start_of_day(first))).scalar_one()
    joined_on = Counter(local_date(created) for created in db.session.execute(
        select(Member.created_at).where(Member.created_at >= start_of_day(first), Member.created_at < start_of_day(end))
    ).scalars())
    rows, members = [], joined_before
    for day in _days(first, last):
        members += joined_on[day]
        checkins = by_kind[(day, CHECKIN)]
        rows.append({
            "day": day, "checkins": checkins, "makeups": by_kind[(day, MAKEUP)], "members": members,
            "checkin_rate": round(checkins / members, 4) if members else 0.0,
            "points_paid": int(daily_points.get(day) or 0) + int(streak_points.get(day) or 0),
        })
    return rows


def referral_numbers(first: date, last: date) -> dict:
    """Invitations bound in the range by state, refusals by reason; rewards paid in the range
    and not reversed since, and the inviters with the most of them."""
    bound = (Referral.created_at >= start_of_day(first), Referral.created_at < start_of_day(last + timedelta(days=1)))
    by_state = dict(db.session.execute(select(Referral.state, func.count()).where(*bound)
                                       .group_by(Referral.state)).all())
    reasons = dict(db.session.execute(select(Referral.reason, func.count()).where(*bound, Referral.state == REFUSED)
                                      .group_by(Referral.reason)).all())
    rewarded_in_range = (Referral.rewarded_on >= first, Referral.rewarded_on <= last)
    totals = db.session.execute(select(
        func.count(), func.coalesce(func.sum(Referral.inviter_points + Referral.invitee_points), 0),
    ).where(*rewarded_in_range, Referral.state == REWARDED)).one()
    top = db.session.execute(
        select(Referral.inviter_id, func.count().label("rewarded")).where(*rewarded_in_range,
                                                                          Referral.state == REWARDED)
        .group_by(Referral.inviter_id).order_by(func.count().desc(), Referral.inviter_id).limit(10)).all()
    return {
        "bound": sum(by_state.values()), "by_state": by_state, "refused_by_reason": reasons,
        "rewarded": totals[0], "points_paid": int(totals[1]),
        "top_inviters": [{"member_id": member_id, "rewarded": count} for member_id, count in top],
    }
