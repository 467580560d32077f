"""Demo check-in and referral rules and a few tasks, so `make run` shows them at work."""
from app.engagement import settings, tasks
from app.engagement.rewards import Reward
from app.engagement.settings import CheckinRules, Milestone, ReferralRules

DEMO_TASKS = [
    {"title": "完善个人资料", "description": "填写昵称、性别和生日", "kind": "complete_profile",
     "reward_points": 50, "reward_growth": 10},
    {"title": "绑定手机号", "kind": "bind_phone", "reward_points": 30, "auto_pay": True},
    {"title": "每周连续签到5天", "description": "奖励一张补签卡", "kind": "checkin_streak", "target": 5,
     "recurrence": "weekly", "reward_points": 20, "reward_makeup_cards": 1},
    {"title": "本月到店消费3次", "kind": "purchases", "target": 3, "recurrence": "monthly",
     "reward_points": 100, "reward_growth": 20},
    {"title": "邀请1位好友", "kind": "invite_friends", "recurrence": "monthly", "reward_points": 50},
]


def load_engagement_demo() -> None:
    settings.save(CheckinRules(
        daily_points=5, daily_growth=1,
        streak_rewards=(Milestone(3, 10), Milestone(7, 30, 5), Milestone(15, 60, 10), Milestone(30, 150, 30)),
        cycle_days=30, makeup_window_days=7, makeup_cost_points=20, makeup_monthly_quota=2,
    ), actor="admin:demo")
    settings.save(ReferralRules(inviter=Reward(points=100, growth=20), invitee=Reward(points=50)), actor="admin:demo")
    for sort_order, task in enumerate(DEMO_TASKS):
        tasks.create_task(**task, sort_order=sort_order)
