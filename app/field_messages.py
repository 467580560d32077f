"""Field messages in Chinese for the people who read them (a member in the mini-program, a clerk
at the till): `details.fields` of every error reply, translated once here from the English that
marshmallow's built-in fields and validators and webargs write (and the few English messages of
the API's own guards). The English stays beside them as `details.fields_en`, same shape: the
words a developer searches marshmallow's documentation and issues with, and what logs and
tests of older clients compare. A message not in the table is kept as it is: the domain's own
(errors.invalid_field, a schema's ValidationError) are written in Chinese where they are raised,
so `fields_en` repeats them; an English twin at each raise would be a second text to keep in step,
for readers who have the code that raises it. The console shows field messages through the same
`in_chinese` (its `chinese` template filter).
"""
import re

# Without a placeholder: looked up as they are.
_EXACT = {
    "Missing data for required field.": "必填",
    "Field may not be null.": "不能为空",
    "Invalid value.": "值无效",
    "Invalid input.": "输入无效",
    "Invalid type.": "类型无效",
    "Invalid input type.": "须为 JSON 对象",
    "Unknown field.": "未知字段",
    "Not a valid integer.": "须为整数",
    "Not a valid number.": "须为数字",
    "Number too large.": "数值过大",
    "Special numeric values (nan or infinity) are not permitted.": "不能为 NaN 或无穷大",
    "Not a valid string.": "须为字符串",
    "Not a valid utf-8 string.": "须为 UTF-8 字符串",
    "Not a valid boolean.": "须为布尔值（true 或 false）",
    "Not a valid date.": "须为日期（YYYY-MM-DD）",
    "Not a valid mapping type.": "须为对象",
    "Not a valid list.": "须为数组",
    "Not a valid tuple.": "须为数组",
    "Not a valid email address.": "须为有效的邮箱地址",
    "Not a valid URL.": "须为有效的网址",
    "Not a valid UUID.": "须为有效的 UUID",
    "Not a valid period of time.": "须为时长",
    "String does not match expected pattern.": "格式不正确",
    "Invalid JSON body.": "不是有效的 JSON",
    "A JSON body is required.": "须提供 JSON 请求体",
    "Must not contain NUL characters or unpaired surrogates.": "不能包含 NUL 字符或不成对的代理字符",
}
_OPS = {"greater than or equal to": "大于或等于", "greater than": "大于",
        "less than or equal to": "小于或等于", "less than": "小于"}
_OP = "(?P<{}>" + "|".join(sorted(map(re.escape, _OPS), key=len, reverse=True)) + ")"
_WORDS = {"datetime": "日期时间（ISO 8601）", "time": "时间", "timedelta": "时长", "date": "日期（YYYY-MM-DD）",
          "aware": "带时区的", "naive": "不带时区的", **_OPS}
# English template (its {placeholders} match any text) → Chinese; the first that matches wins,
# so a longer template comes before the shorter one it contains.
_TEMPLATES = [
    ("Length must be between {min} and {max}.", "长度须在 {min} 到 {max} 之间"),
    ("Length must be {equal}.", "长度须为 {equal}"),
    ("Shorter than minimum length {min}.", "长度不能少于 {min}"),
    ("Longer than maximum length {max}.", "长度不能超过 {max}"),
    ("Must be greater than or equal to {min} and less than or equal to {max}.", "须在 {min} 到 {max} 之间"),
    ("Must be {min_op} {min} and {max_op} {max}.", "须{min_op} {min} 且{max_op} {max}"),
    ("Must be {min_op} {min}.", "须{min_op} {min}"),
    ("Must be {max_op} {max}.", "须{max_op} {max}"),
    ("Must be one of: {choices}.", "须为以下之一：{choices}"),
    ("Must be equal to {other}.", "须等于 {other}"),
    ("One or more of the choices you made was not in: {choices}.", "只能包含：{choices}"),
    ("One or more of the choices you made was in: {values}.", "不能包含：{values}"),
    ("{input} cannot be formatted as a {obj_type}.", "{input} 无法转为{obj_type}"),  # a reply's own value: a bug
    ("Not a valid {awareness} {obj_type}.", "须为{awareness}{obj_type}"),
    ("Not a valid {obj_type}.", "须为{obj_type}"),
]


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)  # literal, name, literal, name, ...
    return re.compile("".join(
        re.escape(part) if at % 2 == 0 else (_OP.format(part) if part.endswith("_op") else f"(?P<{part}>.+?)")
        for at, part in enumerate(parts)))


_PATTERNS = [(_pattern(english), chinese) for english, chinese in _TEMPLATES]


def chinese(message: str) -> str:
    """The message in Chinese, or as it is when the table does not know it."""
    if message in _EXACT:
        return _EXACT[message]
    for pattern, template in _PATTERNS:
        if found := pattern.fullmatch(message):
            return template.format(**{name: _WORDS.get(value, value) for name, value in found.groupdict().items()})
    return message


def in_chinese(messages):
    """A field's messages, as marshmallow nests them (lists, and dicts by field or index), in Chinese."""
    if isinstance(messages, str):
        return chinese(messages)
    if isinstance(messages, dict):
        return {key: in_chinese(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [in_chinese(message) for message in messages]
    return messages
