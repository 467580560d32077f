"""配置 · 消息规则: per event kind, the subscribe-message template, its data fields with
{placeholders} and the page it opens, with a live preview as the operator types (htmx): the
message a sample event would send, or the refusal (an unknown placeholder). The admin API's
service and schemas (app/api/admin_messaging.py): the same check on save and in the preview."""
from flask import render_template, request, url_for
from marshmallow import ValidationError

from app.api.console.config_forms import Field, flat_errors, form_view, read, submit
from app.api.console.pages import actor, flash_and_redirect, page_blueprint
from app.api.messaging_schemas import MessageRuleSchema
from app.errors import AppError
from app.messaging import rules
from app.messaging.kinds import EventKind

blp = page_blueprint("console_config_messages", __name__)
RULE_FIELDS = [
    Field("template_id", "订阅消息模板编号", hint="小程序后台「订阅消息」里选用的模板"),
    Field("fields", "模板字段", kind="rows", blank_rows=3, columns=(
        Field("key", "字段（如 thing1、date2）"), Field("text", "内容（可用 {占位符}）"))),
    Field("page", "点击后打开的页面", hint="如 pages/points/index；空：不跳转"),
    Field("enabled", "启用"),
]


def _rule_args(source) -> dict:
    """The form (or the preview's query) as MessageRuleSchema loads it: the rows as {key: text}."""
    data = read(MessageRuleSchema(), RULE_FIELDS, source)
    data["fields"] = {row.get("key", ""): row.get("text", "") for row in data["fields"]}
    return MessageRuleSchema().load(data)


def _stored(rule) -> dict | None:
    return rule and {"template_id": rule.template_id, "page": rule.page, "enabled": rule.enabled,
                     "fields": [{"key": key, "text": text} for key, text in rule.fields.items()]}


@blp.get("/config/messages")
def index():
    return render_template("console/config_messages.html", kinds=list(EventKind),
                           rules={rule.event_kind: rule for rule in rules.all_rules()})


@blp.get("/config/messages/<kind>")
def rule(kind, errors=None):
    known = rules.get_kind(kind)
    stored = next((found for found in rules.all_rules() if found.event_kind == known.value), None)
    editing = form_view(MessageRuleSchema(), RULE_FIELDS, _stored(stored), errors,
                        action=url_for(".save", kind=known.value), form_id="message-rule")
    html = render_template("console/config_message.html", kind=known, form=editing, back=url_for(".index"),
                           stored_preview=stored and rules.preview(known.value))
    return html, 422 if errors else 200


@blp.post("/config/messages/<kind>")
def save(kind):
    def saved(args):
        rules.save_rule(kind, actor=actor(), **args)
        return flash_and_redirect("消息规则已保存", ".index")

    return submit(lambda: _rule_args(request.form), saved, lambda errors: rule(kind, errors))


@blp.get("/config/messages/<kind>/preview")
def preview(kind):
    """The fragment htmx swaps in: the message under the rule as typed (the query), or why not."""
    try:
        args = _rule_args(request.args)
        shown = rules.preview(kind, {name: args[name] for name in ("template_id", "fields", "page")})
    except ValidationError as error:
        return render_template("console/config_message_preview.html", refusal=flat_errors(error.messages))
    except AppError as error:
        if "fields" not in error.details:
            raise
        return render_template("console/config_message_preview.html", refusal=flat_errors(error.details["fields"]))
    return render_template("console/config_message_preview.html", preview=shown, refusal=None)
