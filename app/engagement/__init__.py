"""Engagement: daily check-in with streaks and makeups, referrals, reward tasks."""
