"""Operators find members by phone (whole or its last digits), nickname, member id or card
code, newest first; phones are shown masked. The CSV export of a filtered list streams."""
import csv
import io

import pytest
from sqlalchemy import insert

from app.extensions import db
from app.member_row import Member
from app.members import service as members
from app.members.code import current_code
from tests.api_steps import error_code
from tests.helpers import events_heard

SEARCH = "/api/v1/admin/members"
EXPORT = "/api/v1/admin/members/export.csv"

# nickname, phone, in the order they join (ids 1..4)
PEOPLE = [("Alice", "13800001234"), ("小王同学", "13900005678"), ("王小明", "13712341234"), ("100%会员", None)]


@pytest.fixture
def people(app, world):
    with app.app_context():
        found = []
        for number, (nickname, phone) in enumerate(PEOPLE):
            member, _ = members.get_or_create(f"openid-{number}", None)
            members.update_profile(member, nickname=nickname)
            if phone:
                members.bind_phone(member, phone)
            found.append({"id": member.id, "card_no": member.card_no, "code": current_code(member).code})
        db.session.commit()
    return found


def names(reply) -> list[str]:
    assert reply.status_code == 200, reply.json
    return [member["nickname"] for member in reply.json["items"]]


def test_digits_find_a_phone_whole_or_by_its_last_digits_and_show_it_masked(world, people):
    admin = world.admin()
    reply = admin.get(SEARCH, query_string={"q": "1234"})
    assert names(reply) == ["王小明", "Alice"]
    assert [member["phone"] for member in reply.json["items"]] == ["137****1234", "138****1234"]
    assert names(admin.get(SEARCH, query_string={"q": "13800001234"})) == ["Alice"]
    assert names(admin.get(SEARCH, query_string={"q": "05678"})) == ["小王同学"]
    assert names(admin.get(SEARCH, query_string={"q": "234"})) == []  # 3 last digits name no phone


def test_digits_find_a_member_id_a_card_number_or_a_dynamic_code(world, people):
    admin = world.admin()
    second, third = people[1], people[2]
    assert names(admin.get(SEARCH, query_string={"q": str(second["id"])})) == ["小王同学"]
    assert names(admin.get(SEARCH, query_string={"q": third["card_no"]})) == ["王小明"]
    assert names(admin.get(SEARCH, query_string={"q": second["code"]})) == ["小王同学"]
    assert names(admin.get(SEARCH, query_string={"q": "99" + second["code"][2:]})) == []  # another brand's


def test_a_nickname_is_found_by_its_beginning_or_from_three_characters_by_any_part(world, people):
    admin = world.admin()
    for q, expected in (("小王", ["小王同学"]), ("王", ["王小明"]), ("小明", []), ("王同学", ["小王同学"]),
                        ("同学", []), ("al", ["Alice"]), ("LIC", ["Alice"]), ("王小明", ["王小明"])):
        assert names(admin.get(SEARCH, query_string={"q": q})) == expected, q


def test_wildcards_in_the_text_are_plain_characters(world, people):
    admin = world.admin()
    assert names(admin.get(SEARCH, query_string={"q": "%"})) == []
    assert names(admin.get(SEARCH, query_string={"q": "_"})) == []
    assert names(admin.get(SEARCH, query_string={"q": "0%会"})) == ["100%会员"]


def test_the_search_pages_newest_first_and_filters_by_tier(world, people):
    admin = world.admin()
    first = admin.get(SEARCH, query_string={"q": "1234", "limit": 1})
    assert names(first) == ["王小明"] and first.json["next_cursor"] == people[2]["id"]
    second = admin.get(SEARCH, query_string={"q": "1234", "limit": 1, "cursor": first.json["next_cursor"]})
    assert names(second) == ["Alice"] and second.json["next_cursor"] is None
    assert names(admin.get(SEARCH)) == ["100%会员", "王小明", "小王同学", "Alice"]
    assert names(admin.get(SEARCH, query_string={"tier_id": world.tiers["银卡"]})) == []
    assert len(names(admin.get(SEARCH, query_string={"tier_id": world.tiers["普通"]}))) == 4


def test_members_named_two_ways_page_together_newest_first(app, world, people):
    """One box, two matches: the oldest member by id, the newest by the same digits as a phone's last 4."""
    q = str(people[0]["id"]).zfill(4)
    with app.app_context():
        members.bind_phone(db.session.get(Member, people[3]["id"]), "1370000" + q)
        db.session.commit()
    admin = world.admin()
    assert names(admin.get(SEARCH, query_string={"q": q})) == ["100%会员", "Alice"]
    first = admin.get(SEARCH, query_string={"q": q, "limit": 1})
    assert names(first) == ["100%会员"] and first.json["next_cursor"] == people[3]["id"]
    second = admin.get(SEARCH, query_string={"q": q, "limit": 1, "cursor": first.json["next_cursor"]})
    assert names(second) == ["Alice"] and second.json["next_cursor"] is None
    assert names(admin.get(SEARCH, query_string={"q": q, "tier_id": world.tiers["银卡"]})) == []


def test_bad_search_input_is_a_422_naming_the_field(world):
    reply = world.admin().get(SEARCH, query_string={"q": "x" * 65})
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
    assert "q" in reply.json["error"]["details"]["fields"]


EXPORTED = 2_500  # more than two of the export's 1,000-row reads


@pytest.fixture
def many_members(app, world):
    """EXPORTED members in one INSERT (ids 1..EXPORTED); member i has phone 138 + i in 8 digits."""
    with app.app_context():
        db.session.execute(insert(Member), [
            {"openid": f"bulk-{i}", "card_no": f"8{i:015d}", "phone": f"138{i:08d}", "nickname": f"会员{i}",
             "tier_id": world.tiers["普通"], "code_secret": "00" * 20} for i in range(1, EXPORTED + 1)])
        db.session.execute(insert(Member), [{"openid": "formula", "card_no": "8999999999999999", "nickname": "=1+1",
                                             "tier_id": world.tiers["普通"], "code_secret": "00" * 20}])
        db.session.commit()


def rows_of(reply) -> list[list[str]]:
    assert reply.status_code == 200, reply.data[:200]
    assert reply.mimetype == "text/csv"
    text = reply.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_export_streams_every_row_from_one_statement_read_in_chunks(app, world, many_members, is_postgres):
    admin = world.admin()
    with app.app_context(), events_heard(db.engine, "after_cursor_execute", lambda _c, cursor, statement, _p, context,
                                         _m: (type(cursor).__name__, context.execution_options.get("yield_per"))
                                         if "FROM members" in statement else None) as reads:
        rows = rows_of(admin.get(EXPORT))
    assert rows[0] == ["会员ID", "卡号", "昵称", "手机号", "等级", "成长值", "积分余额", "注册时间"]
    assert len(rows) == 1 + EXPORTED + 1
    assert rows[1][:7] == [str(EXPORTED + 1), "8999999999999999", "'=1+1", "", "普通", "0", "0"]  # no formula
    assert rows[2][:7] == [str(EXPORTED), f"8{EXPORTED:015d}", f"会员{EXPORTED}", "138****2500", "普通", "0", "0"]
    assert [int(row[0]) for row in rows[1:]] == list(range(EXPORTED + 1, 0, -1))
    # one statement, read 1,000 rows at a time: on PostgreSQL through a server-side cursor
    assert reads == [("ServerCursor" if is_postgres else "Cursor", 1000)]


def test_the_export_takes_the_search_filter_and_shows_phones_in_full_only_when_asked(world, many_members):
    admin = world.admin()
    assert [row[3] for row in rows_of(admin.get(EXPORT, query_string={"q": "00001234"}))[1:]] == ["138****1234"]
    full = rows_of(admin.get(EXPORT, query_string={"q": "00001234", "phone": "full"}))
    assert [(row[0], row[3]) for row in full[1:]] == [("1234", "13800001234")]
    reply = admin.get(EXPORT, query_string={"phone": "plain"})
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
