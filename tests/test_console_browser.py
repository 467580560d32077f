"""The console in a real browser (headless Chromium): logging in, the overview's chart drawn,
CSRF and roles as a user would meet them, logging out. Fixtures: tests/browser.py."""
from sqlalchemy import func, select

from app.extensions import db
from app.operators.models import Operator
from app.operators.roles import ADMIN, ANALYST
from tests.helpers import PASSWORD


def operators_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Operator)).scalar_one()


def test_an_admin_logs_in_and_sees_members_per_tier_drawn(app, world, console):  # before any rollup: live
    for code in ("alice", "bob"):
        world.member(code)  # two new members, both in the entry tier
    page = console(ADMIN)
    chart = page.find("[data-chart=by-tier]")
    page.wait_for(lambda: page.script("return !!echarts.getInstanceByDom(arguments[0])", chart), "chart not drawn")
    assert chart.find_elements("css selector", "canvas, svg")
    series = page.script("return echarts.getInstanceByDom(arguments[0]).getOption().series"
                         ".map(function (s) { return {name: s.name, data: s.data}; })", chart)
    assert series == [{"name": "会员数", "data": [2, 0, 0, 0]},  # 普通, 银卡, 金卡, 钻石
                      {"name": "消费笔数", "data": [0, 0, 0, 0]}]
    labels = [link.text for link in page.all("nav.sidebar a")]
    assert labels[0] == "概览" and "审计日志" in labels and "账号" in labels


def test_a_wrong_password_is_refused_and_no_session_opens(app, world, browser):
    browser.log_in("operator", "not-the-password")
    assert browser.path == "/console/login"
    assert browser.find("#login-error").text == "用户名或密码错误"
    browser.open("/console/")
    assert browser.path.startswith("/console/login")


def test_a_form_posted_without_its_csrf_token_is_refused(app, world, console):
    page = console(ADMIN)
    page.open("/console/accounts")
    page.fill("#create-account", username="no-csrf", name="无令牌", password="long-enough-1", role=ANALYST)
    page.script("document.querySelector('#create-account [name=csrf_token]').remove()")
    before = operators_count(app)
    page.submit("#create-account")
    assert page.error_code() == "CSRF_INVALID"
    assert operators_count(app) == before


def test_an_admin_adds_an_account_through_the_form(app, world, console):
    page = console(ADMIN)
    page.open("/console/accounts")
    page.fill("#create-account", username="new-analyst", name="新分析员", password="long-enough-1", role=ANALYST)
    page.submit("#create-account")
    assert page.find(".flash").text == "已添加账号 new-analyst"
    with app.app_context():
        assert db.session.execute(select(Operator.role).where(Operator.username == "new-analyst")).scalar_one() \
            == ANALYST


def test_an_analyst_sees_no_write_form_and_a_forged_post_is_refused(app, world, console):
    page = console(ANALYST)
    assert [form.get_attribute("action").removeprefix(page.base_url) for form in page.all("form")] \
        == ["/console/logout"]
    assert "账号" not in [link.text for link in page.all("nav.sidebar a")]
    page.open("/console/audit")
    assert page.all("form[method=post]") == page.all("header form")  # the logout alone
    page.open("/console/accounts")
    assert page.error_code() == "ROLE_FORBIDDEN"
    # a form the analyst builds by hand, with their session's own valid CSRF token
    before = operators_count(app)
    page.open("/console/")
    page.script("""
        var form = document.createElement('form');
        form.method = 'post'; form.action = '/console/accounts'; form.id = 'forged';
        [['csrf_token', document.querySelector('[name=csrf_token]').value], ['username', 'forged'],
         ['name', 'x'], ['password', 'long-enough-1'], ['role', 'admin']].forEach(function (pair) {
            var input = document.createElement('input'); input.name = pair[0]; input.value = pair[1];
            form.appendChild(input);
        });
        document.body.appendChild(form);""")
    page.submit("#forged")
    assert page.error_code() == "ROLE_FORBIDDEN"
    assert operators_count(app) == before


def test_logging_out_ends_the_session_and_its_cookie(app, world, console):
    page = console(ADMIN, "leaving")
    cookie = page.driver.get_cookie("membermall_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/console"
    page.find("#logout").click()
    page.wait_for(lambda: page.path.startswith("/console/login"), "not back at the login page")
    page.open("/console/")
    assert page.path.startswith("/console/login")
    page.driver.add_cookie({k: cookie[k] for k in ("name", "value", "path", "httpOnly", "sameSite")})
    page.open("/console/")  # the old cookie, replayed: its token version is gone
    assert page.path.startswith("/console/login")
    page.log_in("leaving", PASSWORD)
    assert page.path == "/console/"


def test_a_role_changed_in_the_accounts_page_shows_in_the_audit_log(app, world, console):
    page = console(ADMIN, "boss")
    page.open("/console/accounts")
    row = "tr[data-username=operator]"
    page.fill(f"{row} form", role=ANALYST)
    page.submit(f"{row} form")
    assert page.find(".flash").text == "operator 的角色已改为分析员"
    page.open("/console/audit")
    page.fill("#audit-filters", action="console_accounts.change_role")
    page.submit("#audit-filters")
    cells = [cell.text for cell in page.find("#audit-entries tbody tr").find_elements("css selector", "td")]
    assert cells[1:5] == ["admin 测试", "console_accounts.change_role", "operator " + str(world_operator(app)), "1"]
    page.find("#audit-entries tbody tr a").click()
    page.wait_for(lambda: page.path.startswith("/console/audit/"), "no entry page")
    changes = page.find("table.data tbody").text
    assert '"role": "admin"' in changes and '"role": "analyst"' in changes


def world_operator(app) -> int:
    with app.app_context():
        return db.session.execute(select(Operator.id).where(Operator.username == "operator")).scalar_one()
