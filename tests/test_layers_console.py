"""The 分层, 人群 and 活动 pages: in a real browser (an operator defines a segment with its live
count, creates a campaign with a holdout, launches it and reads its results) and with the
test client (what each page shows, the refusals)."""
from datetime import datetime, timezone

from sqlalchemy import select

from app.campaigns.models import Campaign, CampaignMember
from app.extensions import db
from app.layers.models import Segment
from app.operators.roles import ANALYST, OPERATOR
from app.tasks import jobs
from tests.console_helpers import ConsoleClient, error_code
from tests.layers_steps import add_purchase, build_fixture


def test_an_operator_defines_a_segment_launches_a_campaign_with_a_holdout_and_reads_its_results(
        app, world, console):
    with app.app_context():  # the browser runs on the real clock: the fixture as of now
        build_fixture(world, datetime.now(timezone.utc))
        jobs.compute_layers()
    page = console(OPERATOR)
    page.open("/console/layers")
    chart = page.find("[data-chart=layers-now]")
    page.wait_for(lambda: page.script("return !!echarts.getInstanceByDom(arguments[0])", chart), "chart not drawn")
    assert page.find("#layer-counts [data-layer=at_risk] .num").text == "1"

    page.open("/console/segments")
    page.fill("#create-segment", name="非沉睡会员")
    for layer in ("high_value", "potential", "new", "at_risk"):
        page.find(f"#create-segment [name=layers][value={layer}]").click()
    live_count = "var found = document.querySelector('#segment-count'); return found && found.dataset.members"
    page.wait_for(lambda: page.script(live_count) == "7", "no live count")  # htmx swaps the element in
    page.submit("#create-segment")
    assert page.find(".flash").text == "已保存人群 非沉睡会员"

    page.open("/console/campaigns")
    page.fill("#create-campaign", name="回归礼", points="20", holdout_pct="30", response_days="7")
    page.script("document.querySelector('#create-campaign [name=starts_at]').value = '2020-01-01T09:00'")
    page.submit("#create-campaign")
    assert page.find(".flash").text == "已创建活动 回归礼"
    target, holdout = int(page.find("#preview").get_attribute("data-target")), \
        int(page.find("#preview").get_attribute("data-holdout"))
    assert target + holdout == 7 and holdout >= 1
    page.find("#dry-run-link").click()
    assert len(page.all("#dry-run tbody tr")) == 7
    page.script("window.confirm = function () { return true; }")
    page.submit("#launch")
    assert page.find("#launched")
    with app.app_context():
        jobs.run_campaigns()
        [campaign_id] = db.session.execute(select(Campaign.id)).scalars()
        reached = db.session.execute(select(CampaignMember.member_id).where(
            CampaignMember.holdout.is_(False))).scalars().all()
        add_purchase(reached[0], world, datetime.now(timezone.utc), 100)
        db.session.commit()
    page.open(f"/console/campaigns/{campaign_id}")
    rows = [row.text for row in page.all("#results tbody tr")]
    assert rows[0].startswith(f"活动组 {target} 1 ") and rows[1].startswith(f"对照组 {holdout} 0 ")
    assert "提升" in page.find("#uplift").text


def test_an_analyst_reads_the_pages_but_sees_no_form_and_cannot_post(app, world):
    client = ConsoleClient.logged_in(app, ANALYST)
    for path in ("/console/layers", "/console/segments", "/console/campaigns"):
        reply = client.get(path)
        assert reply.status_code == 200, path
        assert "<form method=\"post\" action=\"/console/segments\"" not in reply.get_data(as_text=True)
    refused = client.post("/console/segments", data={"name": "x"})
    assert (refused.status_code, error_code(refused)) == (403, "ROLE_FORBIDDEN")
    with app.app_context():
        assert db.session.execute(select(Segment)).first() is None


def test_bad_conditions_re_render_the_form_with_a_422_and_the_live_count_names_them(app, world):
    client = ConsoleClient.logged_in(app, OPERATOR)
    client.get("/console/segments")
    reply = client.post("/console/segments", data={"name": "x", "points_min": "abc"})
    assert reply.status_code == 422
    assert '<span class="field-error">points_min：须为整数</span>' in reply.get_data(as_text=True)
    count = client.get("/console/segments/count?points_min=10&points_max=5")
    assert 'data-members=""' in count.get_data(as_text=True)
    assert "points_max 不能小于 points_min" in count.get_data(as_text=True)
    typo = client.get("/console/segments/count?points_min=x").get_data(as_text=True)
    assert "points_min 须为整数" in typo  # marshmallow's message, in Chinese as the API gives it
    assert 'data-members="0"' in client.get("/console/segments/count?layers=at_risk").get_data(as_text=True)
