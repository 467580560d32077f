"""The console's 概览 and 等级 pages over the numbers' hand-computed fixture (tests/test_numbers.py):
the figures on the page are the fixture's, the charts are drawn, the CSV links answer."""
from datetime import date

import pytest
import time_machine

from app.extensions import db
from app.operators.roles import ANALYST
from tests.console_helpers import ConsoleClient, error_code
from tests.test_numbers import at, build_fixture


@pytest.fixture
def fixture_day(app, world):
    """The fixture built; the clock running from 2028-03-10 15:00, its today, for the rest of the test."""
    with app.app_context():
        build_fixture(world)
        db.session.remove()  # no transaction left open (on SQLite it would hold the write lock)
    with time_machine.travel(at(date(2028, 3, 10), 15), tick=True):
        yield


def kpi_texts(page) -> dict:
    return {card.get_attribute("data-kpi"): (card.find_element("css selector", ".kpi-value").text,
                                             card.find_element("css selector", ".kpi-change").text)
            for card in page.all(".kpi")}


def charts_drawn(page, names: list[str]) -> None:
    for name in names:
        chart = page.find(f"[data-chart={name}]")
        page.wait_for(lambda: page.script("return !!echarts.getInstanceByDom(arguments[0])", chart),
                      f"chart {name} not drawn")
        assert chart.find_elements("css selector", "canvas, svg"), name


def test_the_overview_shows_the_fixtures_numbers_and_draws_its_charts(app, fixture_day, console):
    page = console(ANALYST)
    page.open("/console/?preset=7d")
    charts_drawn(page, ["over-time", "points", "by-tier", "by-store"])
    kpis = kpi_texts(page)
    assert kpis["members_total"] == ("4", "较上期 +3（+300.0%）")
    assert kpis["spend_fen"] == ("¥1,180.00", "较上期 +¥980.00（+490.0%）")
    assert kpis["points_outstanding"] == ("715", "较上期 +410（+134.4%）")
    assert kpis["points_expiring_30d"] == ("20", "较上期 —")
    assert kpis["repeat_purchase_rate"] == ("33.33%", "较上期 +33.33 个百分点")
    assert kpis["checkin_rate"] == ("21.05%", "较上期 +1.05 个百分点")
    assert kpis["benefit_claim_rate"] == ("50.00%", "较上期 —")
    assert page.find("#presets a.current").get_attribute("data-preset") == "7d"
    stores = [[cell.text for cell in row.find_elements("css selector", "td")] for row in page.all("#by-store tbody tr")]
    assert stores == [["Store A", "2", "1", "2", "¥1,100.00", "0"], ["Store B", "1", "1", "2", "¥80.00", "1"],
                      ["未归属门店", "1", "1", "0", "¥0.00", "0"]]
    page.find("#presets a[data-preset=ytd]").click()
    page.wait_for(lambda: page.path == "/console/?preset=ytd", "the preset link")
    charts_drawn(page, ["over-time"])


def test_the_tier_page_shows_the_pyramid_and_the_flow(app, fixture_day, console):
    page = console(ANALYST)
    page.open("/console/tiers?preset=7d")
    charts_drawn(page, ["pyramid", "flow", "moves"])
    rows = {row.find_element("css selector", "td").text: [cell.text for cell in row.find_elements("css selector", "td")]
            for row in page.all("#pyramid tbody tr")}
    assert rows["普通"] == ["普通", "4", "100.00%", "¥180.00", "15.25%", "0", "1", "1", "0"]
    assert rows["银卡"] == ["银卡", "0", "0.00%", "¥1,000.00", "84.75%", "1", "0", "0", "1"]
    flow = [[cell.text for cell in row.find_elements("css selector", "td")] for row in page.all("#flow tbody tr")]
    assert flow == [["普通", "银卡", "升级", "1"], ["银卡", "普通", "降级", "1"]]


@pytest.mark.parametrize(("path", "first_line"), [
    ("/console/dashboard.csv?preset=7d", "kpi,value,previous,change,change_pct"),
    ("/console/dashboard.csv?preset=7d&table=by_store", "store_id,code,name,members,new_members,purchases,spend_fen,"
                                                        "verifications"),
    ("/console/tiers.csv?preset=7d&table=flow", "from_tier_id,from_name,to_tier_id,to_name,direction,members"),
])
def test_the_csv_links_answer_for_an_analyst(app, fixture_day, path, first_line):
    client = ConsoleClient.logged_in(app, ANALYST)
    reply = client.get(path)
    assert (reply.status_code, reply.mimetype) == (200, "text/csv")
    assert reply.get_data(as_text=True).lstrip("\ufeff").splitlines()[0] == first_line


@pytest.mark.parametrize("path", ["/console/?preset=14d", "/console/tiers?preset=", "/console/tiers.csv?table=x"])
def test_a_malformed_preset_or_table_is_a_422_page(app, world, path):
    reply = ConsoleClient.logged_in(app, ANALYST).get(path)
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
