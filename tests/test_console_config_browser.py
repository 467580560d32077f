"""The message-rule page in a real browser: the preview follows what the operator types (htmx),
an unknown placeholder shows as the refusal, and the rule saves. Fixtures: tests/browser.py."""
from app.extensions import db
from app.messaging.models import MessageRule
from app.operators.roles import OPERATOR
from tests.browser import ARTIFACTS


def shown_data(page) -> dict:
    """The preview's data as shown: {template key: value}."""
    return {cell.get_attribute("data-key"): cell.text for cell in page.all("#message-preview dd[data-key]")}


def test_an_operator_edits_a_message_rule_and_sees_the_live_preview(app, world, console):
    page = console(OPERATOR)
    page.open("/console/config/messages")
    page.find('#message-rules tr[data-kind="mall_redeemed"] a').click()
    page.wait_for(lambda: page.path == "/console/config/messages/mall_redeemed", "the rule's page did not open")
    page.fill("#message-rule", template_id="TPL-redeemed")
    keys = page.all('#message-rule [name="fields.key"]')
    texts = page.all('#message-rule [name="fields.text"]')
    keys[0].send_keys("thing1")
    texts[0].send_keys("{item_name} 兑换成功")
    keys[1].send_keys("number2")
    texts[1].send_keys("{points}")
    page.wait_for(lambda: shown_data(page) == {"thing1": "品牌帆布袋 兑换成功", "number2": "500"},
                  "the preview did not render the sample as typed")

    ARTIFACTS.mkdir(exist_ok=True)
    page.driver.save_screenshot(str(ARTIFACTS / "message_rule_live_preview.png"))  # the form beside its preview

    texts[0].send_keys(" {item}")  # a placeholder mall_redeemed does not have
    page.wait_for(lambda: page.all("#message-preview .preview-refused"), "the preview did not show the refusal")
    assert "{item} 不是 mall_redeemed 的字段" in page.find("#message-preview").text

    for _ in " {item}":
        texts[0].send_keys("\b")
    page.wait_for(lambda: shown_data(page) == {"thing1": "品牌帆布袋 兑换成功", "number2": "500"},
                  "the preview did not come back")
    page.submit("#message-rule")
    assert page.find(".flash").text == "消息规则已保存"
    assert "TPL-redeemed" in page.find('#message-rules tr[data-kind="mall_redeemed"]').text
    with app.app_context():
        rule = db.session.query(MessageRule).filter_by(event_kind="mall_redeemed").one()
        assert rule.fields == {"thing1": "{item_name} 兑换成功", "number2": "{points}"}
