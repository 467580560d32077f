"""Every newest-first list pages through one helper (app/db_helpers.newest_first): followed by
cursor, the pages add up to the whole list, newest first, each list's own filters kept."""
import re
from datetime import date
from pathlib import Path

import time_machine
from sqlalchemy import select

from app.engagement.models import Referral, Task
from app.extensions import db
from app.mall.models import AWAITING_SHIPMENT, CouponTemplate, MallItem, MallOrder
from app.stores.models import Store
from app.tasks import jobs
from app.tasks.models import JobRun
from tests.engagement_steps import create_task, referral_rules
from tests.mall_steps import (
    ADMIN,
    MEMBER_API,
    SHIP_TO,
    create_item,
    create_template,
    give_points,
    make_members,
    member_caller,
)
from tests.test_referral import code_of, invited

APP = Path(__file__).resolve().parent.parent / "app"


def walk(caller, url: str, key: str = "id", **query) -> list[int]:
    """The ids (`key`) on every page, one row a page, following next_cursor to the end."""
    ids, cursor = [], None
    while True:
        reply = caller.get(url, query_string={"limit": 1, **query, **({"cursor": cursor} if cursor else {})})
        assert reply.status_code == 200, reply.json
        ids += [row[key] for row in reply.json["items"]]
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return ids


def newest_ids(app, column, *where) -> list[int]:
    with app.app_context():
        return list(db.session.execute(select(column).where(*where).order_by(column.desc())).scalars())


def test_the_mall_lists_page_newest_first_with_their_filters(app, world):
    admin = world.admin()
    with time_machine.travel("2026-06-10T04:00:00+00:00", tick=False):
        virtual, physical = create_item(admin, name="虚拟"), create_item(admin, name="实物", kind="physical")
        create_item(admin, name="下架", active=False)
        create_item(admin, name="已结束", sale_ends_at="2026-06-10T00:00:00+08:00")
        shopper, other = (member_caller(app, member_id) for member_id in make_members(app, 2))
        for member in (shopper, other):
            give_points(app, member.member_id, 1000, expires_on=date(2027, 12, 31))
        shipped = {"ship_to": SHIP_TO}
        for member, item, body in [(shopper, virtual, {}), (other, virtual, {}), (shopper, physical, shipped),
                                   (shopper, virtual, {})]:
            reply = member.post(f"{MEMBER_API}/mall/orders", json={"item_id": item["id"], **body})
            assert reply.status_code == 201, reply.json

        assert walk(admin, f"{ADMIN}/mall-items") == newest_ids(app, MallItem.id)
        assert walk(shopper, f"{MEMBER_API}/mall/items") == [physical["id"], virtual["id"]]
        mine = walk(shopper, f"{MEMBER_API}/mall/orders")
        assert len(mine) == 3 and mine == newest_ids(app, MallOrder.id, MallOrder.member_id == shopper.member_id)
        assert walk(admin, f"{ADMIN}/mall-orders") == newest_ids(app, MallOrder.id)
        assert walk(admin, f"{ADMIN}/mall-orders", state=AWAITING_SHIPMENT) == newest_ids(
            app, MallOrder.id, MallOrder.state == AWAITING_SHIPMENT) == [mine[1]]


def test_invitations_and_job_runs_page_newest_first_with_their_filters(app, world):
    referral_rules(app)
    alice = world.member("alice")
    for code in ("b1", "b2", "b3"):
        invited(app, code, code_of(alice))
    invitations = walk(alice, f"{MEMBER_API}/invitations")
    assert len(invitations) == 3 and invitations == newest_ids(app, Referral.id, Referral.inviter_id == alice.member_id)

    with app.app_context():
        for job in (jobs.expire_points, jobs.expire_coupons, jobs.expire_points):
            job()
    admin = world.admin()
    assert walk(admin, f"{ADMIN}/job-runs") == newest_ids(app, JobRun.id)
    expiries = walk(admin, f"{ADMIN}/job-runs", job="expire_points")
    assert len(expiries) == 2 and expiries == newest_ids(app, JobRun.id, JobRun.job == "expire_points")


def test_stores_tasks_their_numbers_and_coupon_templates_page_newest_first(app, world):
    admin = world.admin()
    for code in ("C", "D"):
        assert admin.post(f"{ADMIN}/stores", json={"code": code, "name": f"门店{code}"}).status_code == 201
    for title in ("一", "二", "三"):
        create_task(world, title=title, kind="purchases")
    for name in ("甲", "乙"):
        create_template(admin, name=name)
    stores = walk(admin, f"{ADMIN}/stores")
    assert len(stores) == 4 and stores == newest_ids(app, Store.id)  # the world's A and B, then C and D
    tasks = walk(admin, f"{ADMIN}/tasks")
    assert len(tasks) == 3 and tasks == newest_ids(app, Task.id)
    assert walk(admin, f"{ADMIN}/tasks/numbers", key="task_id") == tasks
    templates = walk(admin, f"{ADMIN}/coupon-templates")
    assert len(templates) == 2 and templates == newest_ids(app, CouponTemplate.id)


def test_only_the_helper_pages_by_cursor():
    """No service compares an id with a cursor on its own: every newest-first list pages in newest_first."""
    cursor_comparison = re.compile(r"\.id < \w")
    found = [f"{path.relative_to(APP)}:{number}" for path in sorted(APP.rglob("*.py")) if path.name != "db_helpers.py"
             for number, line in enumerate(path.read_text().splitlines(), 1) if cursor_comparison.search(line)]
    assert found == []
