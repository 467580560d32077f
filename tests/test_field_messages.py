"""Field messages in Chinese (details.fields) with the English beside them (details.fields_en):
marshmallow's built-in messages are all translated, through the replies the API really gives."""
import ast
import inspect
import re
from pathlib import Path

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from app.field_messages import chinese, in_chinese
from app.operators.roles import OPERATOR
from tests.console_helpers import ConsoleClient
from tests.helpers import Caller


def _details(reply) -> dict:
    assert reply.status_code == 422, reply.json
    return reply.json["error"]["details"]


def test_a_login_with_wrong_types_names_each_field_in_chinese_and_in_english(app):
    details = _details(Caller(app).post("/api/v1/auth/member/login", json={"code": 1, "extra": True}))
    assert details["fields"] == {"code": ["须为字符串"], "extra": ["未知字段"]}
    assert details["fields_en"] == {"code": ["Not a valid string."], "extra": ["Unknown field."]}


def test_a_missing_field_is_required_and_a_too_long_one_names_its_bounds(app):
    assert _details(Caller(app).post("/api/v1/auth/member/login", json={}))["fields"] == {"code": ["必填"]}
    details = _details(Caller(app).post("/api/v1/auth/member/login", json={"code": "x" * 129}))
    assert details["fields"] == {"code": ["长度须在 1 到 128 之间"]}
    assert details["fields_en"] == {"code": ["Length must be between 1 and 128."]}


def test_a_query_parameter_out_of_range_and_not_an_integer(world):
    alice = world.member("alice")
    details = _details(alice.get("/api/v1/member/points/entries?limit=1000"))
    assert details["fields"] == {"limit": ["须在 1 到 100 之间"]}
    assert _details(alice.get("/api/v1/member/points/entries?limit=x"))["fields"] == {"limit": ["须为整数"]}


def test_a_missing_body_and_text_no_database_stores(world):
    alice = world.member("alice")
    assert _details(alice.patch("/api/v1/member/profile"))["fields"] == {"json": ["须提供 JSON 请求体"]}
    details = _details(alice.patch("/api/v1/member/profile", json={"nickname": "a\x00b"}))
    assert details["fields"] == {"nickname": ["不能包含 NUL 字符或不成对的代理字符"]}


def test_a_domain_rule_is_worded_in_chinese_where_it_is_raised_and_fields_en_repeats_it(world):
    admin = world.admin()
    details = _details(admin.post("/api/v1/admin/tasks", json={"title": "无奖励", "kind": "purchases",
                                                               "reward_points": 0}))
    assert details["fields"] == details["fields_en"] == {"reward_points": ["任务须至少有一项奖励"]}


# The calls that word a field message of our own, and where their text is.
_RAISERS = {"invalid_field": 1, "ValidationError": 0}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _own_messages():
    """Each literal text (a string or an f-string's fixed parts) our code gives a field message."""
    for path in sorted(Path("app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            validator = getattr(node.func, "value", None)  # validate.Regexp(..., error=...)
            texts = [keyword.value for keyword in node.keywords
                     if keyword.arg == "error" and getattr(validator, "id", None) == "validate"]
            if name in _RAISERS and len(node.args) > _RAISERS[name]:
                texts.append(node.args[_RAISERS[name]])
            for text in texts:
                parts = [text] if isinstance(text, ast.Constant) else getattr(text, "values", [])
                words = "".join(part.value for part in parts if isinstance(part, ast.Constant)
                                and isinstance(part.value, str))
                if words.strip():
                    yield f"{path}:{node.lineno}", words


def test_every_field_message_our_code_words_is_in_chinese():
    """A new English message would reach a member untranslated: the table knows only marshmallow's."""
    found = list(_own_messages())
    assert len(found) > 20  # the scan sees the raises (a broken walk would pass on nothing)
    assert [where for where, words in found if not _CJK.search(words)] == []


def test_a_console_page_refusing_a_query_names_the_field_in_chinese(app, world):
    page = ConsoleClient.logged_in(app, OPERATOR).get("/console/members?cursor=abc")
    assert page.status_code == 422
    assert '<p class="field-error" data-field="cursor">cursor：不是有效的编号</p>' in page.get_data(as_text=True)


def test_a_services_own_message_is_kept_as_it_is():
    """Not marshmallow's: the service wrote it for its reader, and the table leaves it alone."""
    assert chinese("须晚于今天") == "须晚于今天"
    assert chinese("must be after starts_at") == "must be after starts_at"


def _field_classes():
    return [cls for _, cls in inspect.getmembers(fields, inspect.isclass)
            if issubclass(cls, fields.Field) and getattr(cls, "default_error_messages", None)]


SAMPLE = {"obj_type": "datetime", "awareness": "aware", "input": "x", "choices": "a, b", "values": "a, b",
          "other": "1", "min": "1", "max": "2", "equal": "3"}


@pytest.mark.parametrize("cls", _field_classes(), ids=lambda cls: cls.__name__)
def test_every_built_in_field_message_has_its_chinese(cls):
    for key, template in cls.default_error_messages.items():
        message = template.replace("{input!r}", "{input}").format(**SAMPLE)
        assert chinese(message) != message, (cls.__name__, key, message)


VALIDATORS = [validate.Length(min=1), validate.Length(max=2), validate.Length(min=1, max=2), validate.Length(equal=3),
              validate.Range(min=1), validate.Range(max=2), validate.Range(min=1, max=2),
              validate.Range(min=1, max=2, min_inclusive=False, max_inclusive=False), validate.OneOf(["a", "b"]),
              validate.Equal(1), validate.Regexp("^a$"), validate.URL(), validate.Email(),
              validate.ContainsOnly(["a"]), validate.ContainsNoneOf(["z"]), validate.NoneOf([9]),
              validate.Predicate("isdigit")]
BAD = {validate.Length: "xxxxxx", validate.Range: 9, validate.ContainsNoneOf: ["z"], validate.ContainsOnly: ["q"],
       validate.NoneOf: 9, validate.Predicate: "a"}


@pytest.mark.parametrize("validator", VALIDATORS, ids=repr)
def test_every_built_in_validator_message_has_its_chinese(validator):
    value = BAD.get(type(validator), "bad")
    if isinstance(validator, validate.Length) and validator.min == 1 and validator.max is None:
        value = ""
    if isinstance(validator, validate.Range) and validator.min == 1 and validator.max is None:
        value = 0
    with pytest.raises(ValidationError) as refused:
        validator(value)
    (message,) = refused.value.messages
    assert chinese(message) != message and "{" not in chinese(message), message


def test_nested_messages_are_translated_at_every_level():
    class Item(Schema):
        n = fields.Integer(required=True)

    class Order(Schema):
        items = fields.List(fields.Nested(Item))

    with pytest.raises(ValidationError) as refused:
        Order().load({"items": [{"n": "x"}, {}]})
    assert in_chinese(refused.value.messages) == {"items": {0: {"n": ["须为整数"]}, 1: {"n": ["必填"]}}}
