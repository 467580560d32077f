"""Reward tasks (任务): defined by operators, advanced by domain events, paid once per period.

Rules (decided here):
- A task is live while enabled and now is within [starts_at, ends_at) (either may be
  open). Kind and recurrence are fixed at creation: progress already made means them.
- Periods are business-zone dates: once → "once", daily → "2025-03-01", weekly → the
  ISO week "2025-W09" (weeks start on Monday), monthly → "2025-03".
- Each task says where the member does it: `page_path`, a mini-program page the operator
  sets, else its kind's default (DEFAULT_PAGES); a periodic task says when its current
  period ends (the next local midnight, Monday or first of the month), which is also when
  an unclaimed reward lapses.
- Progress of live tasks moves in the transaction of the event that causes it, in the
  current period (progress.py says which event moves which kind). A task is complete
  when its progress reaches its target.
- The reward is paid once per (task, member, period): by a claim while the task is live
  and the period current (an unclaimed reward lapses with its period), or at completion
  for an `auto_pay` task. A unique claim row and the ledger key `task:<id>:<member>:<period>`
  make this hold under concurrent claims. A member's progress and claims run under the
  member's row lock: member, then progress, then claim, in every path.
"""
import time
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, or_, select

from app.clock import now, start_of_day, today
from app.db_helpers import insert_ignoring_conflict, newest_first
from app.engagement.models import Task, TaskClaim, TaskProgress
from app.engagement.rewards import Reward, pay
from app.errors import AppError, EngagementError, invalid_field
from app.extensions import db
from app.member_row import lock_member


def period_of(recurrence: str, day: date) -> str:
    if recurrence == "daily":
        return day.isoformat()
    if recurrence == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if recurrence == "monthly":
        return f"{day:%Y-%m}"
    return "once"


def period_ends_at(recurrence: str, day: date) -> datetime | None:
    """When the period holding `day` ends (the next one's first local midnight); None for "once"."""
    if recurrence == "daily":
        return start_of_day(day + timedelta(days=1))
    if recurrence == "weekly":
        return start_of_day(day + timedelta(days=7 - day.weekday()))
    if recurrence == "monthly":
        return start_of_day((day.replace(day=1) + timedelta(days=32)).replace(day=1))
    return None


# Where each kind of task is done in the mini-program, unless the operator names a page.
DEFAULT_PAGES = {
    "complete_profile": "pages/profile/index", "bind_phone": "pages/profile/index",
    "first_purchase": "pages/card/index", "purchases": "pages/card/index",  # show the member code in store
    "checkin_streak": "pages/checkin/index", "mall_redeem": "pages/mall/index",
}


def page_path_of(task: Task) -> str:
    if task.page_path:
        return task.page_path
    if task.kind == "invite_friends":
        return current_app.config["INVITE_PAGE"]  # the page the invitation's code opens
    return DEFAULT_PAGES[task.kind]


def reward_of(task: Task) -> Reward:
    return Reward(task.reward_points, task.reward_growth, task.reward_makeup_cards)


def is_live(task: Task, at: datetime) -> bool:
    return task.enabled and _within(task.starts_at, task.ends_at, at)


def _within(starts_at: datetime | None, ends_at: datetime | None, at: datetime) -> bool:
    return (starts_at is None or starts_at <= at) and (ends_at is None or at < ends_at)


# Built once (building a statement costs more than running it).
_LIVE = (select(Task).where(Task.enabled, or_(Task.starts_at.is_(None), Task.starts_at <= bindparam("at")),
                            or_(Task.ends_at.is_(None), Task.ends_at > bindparam("at")))
         .order_by(Task.sort_order, Task.id))
_ENABLED_WINDOWS = select(Task.id, Task.kind, Task.starts_at, Task.ends_at).where(Task.enabled)
_BY_IDS = select(Task).where(Task.id.in_(bindparam("ids", expanding=True))).order_by(Task.sort_order, Task.id)

# Every purchase, check-in and redemption asks for the live tasks of its kind, and mostly
# there are none. Which tasks are enabled, and when, is kept per process for
# TASKS_CACHE_SECONDS: a task written in this process counts at once, elsewhere within that.
_CACHE = "enabled_task_windows"  # current_app.extensions: (valid until, {kind: [(id, starts_at, ends_at)]})


def live_tasks(kind: str | None = None) -> list[Task]:
    """The live tasks (all, or of one kind), read fresh: the cache only says which to read."""
    at = now()
    if kind is None:
        return list(db.session.scalars(_LIVE, {"at": at}))
    ids = [id_ for id_, starts_at, ends_at in _enabled_windows().get(kind, ()) if _within(starts_at, ends_at, at)]
    if not ids:
        return []
    return [task for task in db.session.scalars(_BY_IDS, {"ids": ids}) if task.kind == kind and is_live(task, at)]


def _enabled_windows() -> dict[str, list[tuple]]:
    valid_until, windows = current_app.extensions.get(_CACHE, (0.0, {}))
    if time.monotonic() >= valid_until:
        windows = {}
        for id_, kind, starts_at, ends_at in db.session.execute(_ENABLED_WINDOWS):
            windows.setdefault(kind, []).append((id_, starts_at, ends_at))
        current_app.extensions[_CACHE] = (time.monotonic() + current_app.config["TASKS_CACHE_SECONDS"], windows)
    return windows


def forget_enabled_tasks() -> None:
    """After a task is written (and by tests, whose tables are emptied under a running app)."""
    current_app.extensions.pop(_CACHE, None)


# --- operators -------------------------------------------------------------------------


def tasks_page(before_id: int | None, limit: int) -> list[Task]:
    return newest_first(Task, before_id, limit)


def get_task(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None:
        raise AppError(EngagementError.TASK_NOT_FOUND)
    return task


def create_task(**fields) -> Task:
    task = Task(**fields)
    _check(task)
    db.session.add(task)
    return _stored(task)


def update_task(task_id: int, **fields) -> Task:
    task = get_task(task_id)
    for name, value in fields.items():
        setattr(task, name, value)
    _check(task)
    return _stored(task)


def _stored(task: Task) -> Task:
    """Flushed and read back, so the reply shows times as stored (UTC), whatever offset came in."""
    db.session.flush()
    db.session.refresh(task)
    forget_enabled_tasks()
    return task


def delete_task(task_id: int) -> None:
    """Only a task nobody has started; otherwise end it (ends_at) or disable it."""
    task = get_task(task_id)
    if db.session.execute(select(TaskProgress.id).where(TaskProgress.task_id == task.id).limit(1)).first():
        raise AppError(EngagementError.TASK_IN_USE)
    db.session.delete(task)
    db.session.flush()
    forget_enabled_tasks()


# kinds that happen once per member: a target above 1 could never be reached
ONCE_ONLY_KINDS = ("complete_profile", "bind_phone", "first_purchase")


def _check(task: Task) -> None:
    """The task as it will be stored, created or patched, whoever writes it."""
    if task.kind in ONCE_ONLY_KINDS and task.target not in (None, 1):  # None: the column's default, 1
        raise invalid_field("target", "此类任务只需完成一次：target 须为 1")
    if not (task.reward_points or task.reward_growth or task.reward_makeup_cards):
        raise invalid_field("reward_points", "任务须至少有一项奖励")
    if task.starts_at and task.ends_at and task.ends_at <= task.starts_at:
        raise invalid_field("ends_at", "须晚于 starts_at")


# --- members ---------------------------------------------------------------------------


def member_tasks(member_id: int) -> list[dict]:
    """The live tasks with the member's progress in each one's current period."""
    tasks, day = live_tasks(), today()
    periods = {task.id: period_of(task.recurrence, day) for task in tasks}
    progress = {row.task_id: row.progress for row in _rows(TaskProgress, member_id, periods)}
    claimed = {row.task_id for row in _rows(TaskClaim, member_id, periods)}
    views = []
    for task in tasks:
        done = progress.get(task.id, 0)
        state = "claimed" if task.id in claimed else "claimable" if done >= task.target else "in_progress"
        views.append({
            "id": task.id, "title": task.title, "description": task.description, "kind": task.kind,
            "target": task.target, "recurrence": task.recurrence, "period": periods[task.id],
            "progress": min(done, task.target), "state": state, "auto_pay": task.auto_pay,
            "reward": reward_of(task), "ends_at": task.ends_at, "page_path": page_path_of(task),
            "period_ends_at": period_ends_at(task.recurrence, day),
        })
    return views


def _rows(model, member_id: int, periods: dict[int, str]) -> list:
    rows = db.session.execute(select(model).where(model.member_id == member_id,
                                                   model.task_id.in_(periods))).scalars()
    return [row for row in rows if row.period == periods[row.task_id]]


def claim(member_id: int, task_id: int) -> TaskClaim:
    task = get_task(task_id)
    if not is_live(task, now()):
        raise AppError(EngagementError.TASK_NOT_ACTIVE)
    lock_member(member_id)
    period = period_of(task.recurrence, today())
    done = db.session.execute(select(TaskProgress.progress).where(
        TaskProgress.task_id == task.id, TaskProgress.member_id == member_id, TaskProgress.period == period,
    )).scalar_one_or_none() or 0
    if done < task.target:
        raise AppError(EngagementError.TASK_NOT_COMPLETED, details={"progress": done, "target": task.target})
    paid = pay_once(task, member_id, period, automatic=False)
    if paid is None:
        raise AppError(EngagementError.TASK_ALREADY_CLAIMED, details={"period": period})
    return paid


def pay_once(task: Task, member_id: int, period: str, automatic: bool) -> TaskClaim | None:
    """Pay the task's reward for the period, or None if it was paid already."""
    reward = reward_of(task)
    inserted = insert_ignoring_conflict(TaskClaim, {
        "task_id": task.id, "member_id": member_id, "period": period, "points": reward.points,
        "growth": reward.growth, "makeup_cards": reward.makeup_cards, "automatic": automatic,
    }, ["task_id", "member_id", "period"])
    if not inserted:
        return None
    row = db.session.execute(select(TaskClaim).where(
        TaskClaim.task_id == task.id, TaskClaim.member_id == member_id, TaskClaim.period == period)).scalar_one()
    pay(member_id, reward, "task", f"task:{task.id}:{member_id}:{period}", f"task_claim:{row.id}")
    return row


def task_numbers(tasks: list[Task]) -> list[dict]:
    """Per task (a page of them), over all its periods: members who started, completions, rewards paid."""
    ids = [task.id for task in tasks]
    started = dict(db.session.execute(select(TaskProgress.task_id, func.count())
                                      .where(TaskProgress.task_id.in_(ids)).group_by(TaskProgress.task_id)).all())
    completed = dict(db.session.execute(select(TaskProgress.task_id, func.count())
                                        .where(TaskProgress.task_id.in_(ids), TaskProgress.completed_at.is_not(None))
                                        .group_by(TaskProgress.task_id)).all())
    paid = {row.task_id: row for row in db.session.execute(select(
        TaskClaim.task_id, func.count().label("rewarded"), func.sum(TaskClaim.points).label("points"),
        func.sum(TaskClaim.growth).label("growth"), func.sum(TaskClaim.makeup_cards).label("makeup_cards"),
    ).where(TaskClaim.task_id.in_(ids)).group_by(TaskClaim.task_id))}
    numbers = []
    for task in tasks:
        row = paid.get(task.id)
        numbers.append({
            "task_id": task.id, "title": task.title, "kind": task.kind, "recurrence": task.recurrence,
            "started": started.get(task.id, 0), "completed": completed.get(task.id, 0),
            "rewarded": row.rewarded if row else 0, "points_paid": int(row.points) if row else 0,
            "growth_paid": int(row.growth) if row else 0, "makeup_cards_paid": int(row.makeup_cards) if row else 0,
        })
    return numbers
