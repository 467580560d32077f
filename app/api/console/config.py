"""配置: tiers and their benefits, and the check-in and referral rules. The same services and
input schemas as the admin API (app/api/admin.py, admin_engagement.py); the forms are field
lists (app/api/console/config_forms.py)."""
from flask import render_template, url_for

from app.api.console.config_forms import Field, form_view, read, submit
from app.api.console.pages import actor, flash_and_redirect, page_blueprint
from app.api.display import benefit_labels
from app.api.engagement_schemas import CheckinRulesSchema, ReferralRulesSchema
from app.api.schemas import TierPatchSchema, TierSchema
from app.engagement import settings
from app.errors import AppError, RequestError
from app.mall.coupons import all_templates
from app.members import tiers

blp = page_blueprint("console_config", __name__)

_PACK = (Field("template_id", "优惠券模板", kind="number", choices="templates"),
         Field("count", "张数", kind="number"))
# every key of app/members/benefit_keys.py CHECKS (a test holds them equal)
BENEFIT_FIELDS = [
    Field("benefits.discount_pct", "折扣（%）", kind="number", hint="95 即 9.5 折；空：不打折"),
    Field("benefits.free_shipping", "包邮", kind="checkbox"),
    Field("benefits.birthday_points", "生日送积分", kind="number"),
    Field("benefits.checkin_multiplier", "签到积分也按积分倍数", kind="checkbox"),
    Field("benefits.monthly_coupons", "每月礼券（会员领取）", kind="rows", columns=_PACK),
    Field("benefits.birthday_coupons", "生日礼券", kind="rows", columns=_PACK),
    Field("benefits.upgrade_coupons", "升级礼包", kind="rows", columns=_PACK),
]
TIER_FIELDS = [
    Field("name", "名称"),
    Field("level", "级别", hint="0 为入会等级，越大越高"),
    Field("growth_threshold", "成长值门槛", hint="入会等级为 0；级别越高门槛越高"),
    Field("points_multiplier_pct", "消费积分倍数（%）", hint="100 即 1 倍，150 即 1.5 倍"),
    *BENEFIT_FIELDS,
]
CHECKIN_FIELDS = [
    Field("daily_points", "每日签到积分"),
    Field("daily_growth", "每日签到成长值"),
    Field("streak_rewards", "连续签到奖励", kind="rows", columns=(
        Field("day", "连续第几天", kind="number"), Field("points", "积分", kind="number"),
        Field("growth", "成长值", kind="number"))),
    Field("cycle_days", "周期天数", hint="空：连续天数一直累计；N：第 N+1 天重新开始"),
    Field("makeup_window_days", "可补签最近几天"),
    Field("makeup_cost_points", "补签消耗积分"),
    Field("makeup_monthly_quota", "每月补签次数"),
]
REFERRAL_FIELDS = [
    Field("qualify_on", "奖励条件"),
    Field("inviter.points", "邀请人得积分"),
    Field("inviter.growth", "邀请人得成长值"),
    Field("invitee.points", "被邀请人得积分"),
    Field("invitee.growth", "被邀请人得成长值"),
    Field("daily_cap", "每人每天最多奖励次数", hint="空：不限"),
    Field("monthly_cap", "每人每月最多奖励次数", hint="空：不限"),
    Field("reversal_window_days", "首单全额退款在几天内收回奖励"),
]


def _choices() -> dict:
    return {"templates": [(template.id, template.name) for template in all_templates()]}


def _tier_args(schema) -> dict:
    """The form as the schema loads it; a benefit left empty or unticked is not stored."""
    data = read(schema, TIER_FIELDS)
    data["benefits"] = {key: value for key, value in data.get("benefits", {}).items() if value not in (False, [])}
    return schema.load(data)


@blp.get("/config")
def index(errors=None):
    creating = form_view(TierSchema(), TIER_FIELDS, errors=errors, choices=_choices(),
                         action=url_for(".create_tier"), form_id="create-tier")
    html = render_template("console/config_tiers.html", tiers=tiers.all_tiers(), form=creating,
                           benefit_labels=benefit_labels)
    return html, 422 if errors else 200


@blp.post("/config/tiers")
def create_tier():
    def created(args):
        tier = tiers.create_tier(**args)
        return flash_and_redirect(f"已添加等级 {tier.name}", ".index")

    return submit(lambda: _tier_args(TierSchema()), created, index)


@blp.get("/config/tiers/<int:tier_id>")
def tier(tier_id, errors=None):
    found = tiers.get_tier(tier_id)
    editing = form_view(TierPatchSchema(), TIER_FIELDS, found, errors, _choices(),
                        url_for(".update_tier", tier_id=tier_id), "edit-tier")
    html = render_template("console/config_edit.html", title=f"等级 {found.name}", form=editing,
                           back=url_for(".index"))
    return html, 422 if errors else 200


@blp.post("/config/tiers/<int:tier_id>")
def update_tier(tier_id):
    def updated(args):
        saved = tiers.update_tier(tier_id, **args)
        return flash_and_redirect(f"已保存等级 {saved.name}", ".index")

    return submit(lambda: _tier_args(TierPatchSchema()), updated, lambda errors: tier(tier_id, errors))


# --- check-in and referral rules ---------------------------------------------------------

_RULES = {"checkin": (CheckinRulesSchema, CHECKIN_FIELDS, settings.CheckinRules),
          "referral": (ReferralRulesSchema, REFERRAL_FIELDS, settings.ReferralRules)}


@blp.get("/config/rules")
def rules(refused=None, errors=None):
    forms = {name: form_view(schema(), fields, settings.load(rules_type), errors if name == refused else None,
                             action=url_for(".save_rules", name=name), form_id=f"{name}-rules")
             for name, (schema, fields, rules_type) in _RULES.items()}
    return render_template("console/config_rules.html", rule_forms=forms), 422 if errors else 200


@blp.post("/config/rules/<name>")
def save_rules(name):
    if name not in _RULES:
        raise AppError(RequestError.NOT_FOUND)
    schema, fields, _ = _RULES[name]

    def saved(rules_value):
        settings.save(rules_value, actor=actor())
        return flash_and_redirect("签到规则已保存" if name == "checkin" else "邀请规则已保存", ".rules")

    return submit(lambda: schema().load(read(schema(), fields)), saved, lambda errors: rules(name, errors))
