"""积分商城 · 分类 (/console/mall/categories): operators add, rename, reorder and delete the mall's
categories, through the same service and schemas as /admin/mall-categories."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.mall import categories, items
from app.mall.models import MallCategory
from app.operators.roles import ANALYST, OPERATOR
from tests.console_form_helpers import field_errors, kept
from tests.console_helpers import ConsoleClient, assert_analysts_only_read, error_code

PAGE = "/console/mall/categories"


@pytest.fixture
def operator(app, world):
    return ConsoleClient.logged_in(app, OPERATOR)


def stored(app) -> list[tuple[str, int]]:
    with app.app_context():
        return [(category.name, category.sort_order) for category in categories.all_categories()]


def category_id(app, name: str) -> int:
    with app.app_context():
        return db.session.execute(select(MallCategory.id).filter_by(name=name)).scalar_one()


def test_an_operator_adds_renames_reorders_and_deletes_categories(app, operator):
    assert operator.post(PAGE, data={"name": "数码", "sort_order": "20"}).status_code == 303
    assert operator.post(PAGE, data={"name": "生活", "sort_order": ""}).status_code == 303  # blank: 0, first
    assert stored(app) == [("生活", 0), ("数码", 20)]
    page = operator.get(PAGE).get_data(as_text=True)
    assert page.index('data-category="生活"') < page.index('data-category="数码"')  # the members' order
    digital = category_id(app, "数码")
    assert 'value="数码"' in operator.get(f"{PAGE}/{digital}").get_data(as_text=True)
    assert operator.post(f"{PAGE}/{digital}", data={"name": "数码好物", "sort_order": "-5"}).status_code == 303
    assert stored(app) == [("数码好物", -5), ("生活", 0)]
    assert operator.post(f"{PAGE}/{digital}/delete").status_code == 303
    assert stored(app) == [("生活", 0)]


def test_a_bad_category_is_the_form_again_in_chinese_and_one_with_items_stays(app, operator):
    blank = operator.post(PAGE, data={"name": "", "sort_order": "x"})
    assert blank.status_code == 422 and field_errors(blank) == ["长度须在 1 到 32 之间", "须为整数"]
    assert kept(blank, "sort_order", "x") and stored(app) == []
    assert operator.post(PAGE, data={"name": "家居", "sort_order": "1"}).status_code == 303
    home = category_id(app, "家居")
    with app.app_context():
        items.create_item(name="抱枕", kind="physical", price_points=300, category_id=home)
        db.session.commit()
    refused = operator.post(f"{PAGE}/{home}/delete")
    assert (refused.status_code, error_code(refused)) == (409, "CATEGORY_IN_USE")
    assert "请先移走商品" in refused.get_data(as_text=True) and stored(app) == [("家居", 1)]
    missing = operator.get(f"{PAGE}/{home + 1000}")
    assert (missing.status_code, error_code(missing)) == (404, "CATEGORY_NOT_FOUND")


def test_an_analyst_sees_the_categories_but_no_form_and_cannot_write(app, operator):
    assert operator.post(PAGE, data={"name": "美食", "sort_order": "0"}).status_code == 303
    analyst, food = ConsoleClient.logged_in(app, ANALYST), category_id(app, "美食")
    rename = {"name": "改名", "sort_order": "1"}
    assert_analysts_only_read(app, analyst, operator, {PAGE: "create-category"},
                              {PAGE: rename, f"{PAGE}/{food}": rename, f"{PAGE}/{food}/delete": rename})
    page = analyst.get(PAGE).get_data(as_text=True)
    assert 'data-category="美食"' in page and f'action="{PAGE}/{food}/delete"' not in page
    assert f'action="{PAGE}/{food}/delete"' in operator.get(PAGE).get_data(as_text=True)
