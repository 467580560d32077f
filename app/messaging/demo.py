"""Demo message rules for `make run`: the fake WeChat accepts any template id."""
from app.messaging import rules, subscriptions

DEMO_RULES = {
    "tier_upgraded": ("demo-tmpl-tier", {"thing1": "会员等级升级为{to}", "thing2": "感谢您的支持，更多权益等您体验"},
                      "pages/card/index"),
    "tier_downgraded": ("demo-tmpl-tier", {"thing1": "会员等级调整为{to}", "thing2": "消费即可累积成长值重回{from}"},
                        "pages/card/index"),
    "tier_downgrade_warning": ("demo-tmpl-tier-warning",
                               {"thing1": "{tier}保级还差{growth_needed}成长值", "date2": "{review_on}"},
                               "pages/card/index"),
    "points_expiring": ("demo-tmpl-points", {"number1": "{points}", "date2": "{expires_on}",
                                             "thing3": "积分即将过期，快去积分商城兑换吧"}, "pages/mall/index"),
    # a campaign's message (app/campaigns): its payload is {campaign}, {coupon} (may be empty), {points}
    "campaign_reached": ("demo-tmpl-campaign", {"thing1": "{campaign}", "thing2": "您有一份专属礼遇待查收",
                                                "number3": "{points}"}, "pages/coupons/index"),
}


def load_messaging_demo(member_id: int) -> None:
    """The demo rules, and the member accepting each template twice (two messages each)."""
    for kind, (template_id, fields, page) in DEMO_RULES.items():
        rules.save_rule(kind, template_id, fields, page=page, actor="demo")
    templates = {template_id: "accept" for template_id, _, _ in DEMO_RULES.values()}
    subscriptions.report(member_id, templates)
    subscriptions.report(member_id, templates)
