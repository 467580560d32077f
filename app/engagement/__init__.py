"""Engagement: daily check-in with streaks and makeups, referrals, reward tasks."""
from app.events import subscribe


def register_handlers() -> None:
    """Subscribe to the domain events that qualify referrals and move task progress."""
    from app.engagement import progress, referral

    subscribe("member.joined", referral.on_member_joined)
    subscribe("member.phone_bound", referral.on_phone_bound)
    subscribe("purchase.recorded", referral.on_purchase_recorded)
    subscribe("purchase.refunded", referral.on_purchase_refunded)
    subscribe("member.profile_saved", progress.on_profile_saved)
    subscribe("member.phone_bound", progress.on_phone_bound)
    subscribe("purchase.recorded", progress.on_purchase_recorded)
    subscribe("checkin.recorded", progress.on_checkin_recorded)
    subscribe("mall.redeemed", progress.on_mall_redeemed)
    subscribe("referral.rewarded", progress.on_referral_rewarded)
