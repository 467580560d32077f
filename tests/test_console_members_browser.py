"""The 会员 pages in a real browser: search a member, open them, adjust their points, see the
new balance and the ledger's line. Fixtures: tests/browser.py."""
from app.extensions import db
from app.members import service as members
from app.operators.roles import OPERATOR


def test_an_operator_finds_a_member_adjusts_their_points_and_sees_the_ledger_line(app, world, console):
    with app.app_context():
        member, _ = members.get_or_create("openid-browser", None)
        members.update_profile(member, nickname="浏览器测试会员")
        members.bind_phone(member, "13700004321")
        member_id = member.id
        db.session.commit()
    page = console(OPERATOR)
    page.open("/console/members")
    page.fill("#member-search", q="4321")
    page.submit("#member-search")
    row = page.find(f'#members tr[data-member-id="{member_id}"]')
    assert "137****4321" in row.text and "13700004321" not in page.find("#members").text
    row.find_element("css selector", "a").click()
    page.wait_for(lambda: page.path == f"/console/members/{member_id}", "the member's page did not open")
    assert page.find("#member-balance").text == "0"
    page.fill("#adjust-points", delta="88", reason="门店活动补偿")
    page.submit("#adjust-points")
    assert page.find(".flash").text == "已调整积分 +88"
    assert page.find("#member-balance").text == "88"
    first_line = page.find("#ledger tbody tr").text
    assert "+88" in first_line and "门店活动补偿" in first_line
