"""Who reacts to which domain event (app/events.py): the one list, subscribed by create_app.

Handlers of one event run in the order listed, in the emitter's transaction.
"""
from app.engagement import progress, referral
from app.mall import benefits, points_conversion

SUBSCRIBERS = [
    ("member.joined", referral.on_member_joined),
    ("member.profile_saved", progress.on_profile_saved),
    ("member.phone_bound", referral.on_phone_bound),
    ("member.phone_bound", progress.on_phone_bound),
    ("member.tier_changed", benefits.on_tier_changed),
    ("tier.saved", benefits.check_coupon_packs),
    ("purchase.recorded", referral.on_purchase_recorded),
    ("purchase.recorded", progress.on_purchase_recorded),
    ("purchase.refunded", referral.on_purchase_refunded),
    ("checkin.recorded", progress.on_checkin_recorded),
    ("referral.rewarded", progress.on_referral_rewarded),
    ("mall.redeemed", progress.on_mall_redeemed),
    ("points.expiring", points_conversion.on_points_expiring),
]
