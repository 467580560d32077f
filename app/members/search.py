"""The operators' member search: one box for a phone, a nickname, a member id or a card code.

Digits name a member id, a card number (card_no), a dynamic member code (its member-id digits:
an operator reads the code off a member's phone, no time check) or a phone: all 11 digits, or
its last 4 to 10. Anything else is a nickname: its beginning (1 or 2 characters) or any part
of it (3 or more), ignoring case. The indexes behind each are app/member_row.py's.
"""
import csv
import io
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, false, func, or_, select, union_all

from app.clock import business_tz
from app.db_helpers import newest_first, older_than
from app.extensions import db
from app.member_row import Member, Tier
from app.members.code import MAX_MEMBER_ID, member_id_digits

PHONE_LENGTH = 11
PHONE_SUFFIX_MIN = 4  # fewer last digits would match a tenth of all members, or more
NICKNAME_CONTAINS_MIN = 3  # trigrams: a shorter text is looked up as a beginning


def mask_phone(phone: str | None) -> str | None:
    """138****1234: what operators see of a phone unless they export it in full."""
    return phone and f"{phone[:3]}****{phone[-4:]}"


def _names(q: str | None) -> list[ColumnElement] | None:
    """The ways `q` names members, any of which matches (None: every member)."""
    q = (q or "").strip()
    if not q:
        return None
    if q.isdigit():
        return _by_digits(q) if q.isascii() else [false()]
    if len(q) < NICKNAME_CONTAINS_MIN:
        return [func.lower(Member.nickname).startswith(q.lower(), autoescape=True)]
    return [func.lower(Member.nickname).contains(q.lower(), autoescape=True)]


def matching(q: str | None) -> ColumnElement | None:
    """The members `q` names (None: every member)."""
    names = _names(q)
    return None if names is None else or_(*names)


def _by_digits(q: str) -> list[ColumnElement]:
    named = [Member.card_no == q]
    if int(q) <= MAX_MEMBER_ID:
        named.append(Member.id == int(q))
    if (code_member_id := member_id_digits(q)) is not None:
        named.append(Member.id == code_member_id)
    if len(q) == PHONE_LENGTH:
        named.append(Member.phone == q)
    elif PHONE_SUFFIX_MIN <= len(q) < PHONE_LENGTH:
        named.append(_phone_ends_with(q))
    return named


def _phone_ends_with(digits: str) -> ColumnElement:
    if db.session.get_bind().dialect.name != "postgresql":
        return Member.phone.endswith(digits)
    if len(digits) == PHONE_SUFFIX_MIN:  # ix_members_phone_last4, in id order
        return func.right(Member.phone, PHONE_SUFFIX_MIN) == digits
    return func.reverse(Member.phone).startswith(digits[::-1])  # ix_members_phone_reversed


def filters(q: str | None = None, tier_id: int | None = None) -> list[ColumnElement]:
    """The conditions of a filtered member list (the search and its CSV export)."""
    found = [] if (named := matching(q)) is None else [named]
    if tier_id is not None:
        found.append(Member.tier_id == tier_id)
    return found


def search(q: str | None, tier_id: int | None, before_id: int | None, limit: int) -> list[Member]:
    """Members `q` names, newest first. Each way `q` names them is looked up on its own, newest
    first and limited, on an index of its own: one OR of them all would read every match (~100
    members share a phone's last 4 digits at 1M) to keep a page of them."""
    names = _names(q)
    if names is None:
        return newest_first(Member, before_id, limit, *filters(q, tier_id))
    page = filters(None, tier_id) + older_than(Member, before_id)
    lookups = [select(Member.id).where(name, *page).order_by(Member.id.desc()).limit(limit).subquery()
               for name in names]
    found = union_all(*(select(lookup.c.id) for lookup in lookups))
    return newest_first(Member, None, limit, Member.id.in_(found))


EXPORT_HEADER = ("会员ID", "卡号", "昵称", "手机号", "等级", "成长值", "积分余额", "注册时间")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


def export_csv(q: str | None, tier_id: int | None, full_phone: bool = False, chunk: int = 1000) -> Iterator[str]:
    """The filtered list as CSV text, a line at a time, newest first, phones masked unless
    `full_phone`: a reply body to stream after the view has returned (it needs no app context).

    One statement read `chunk` rows at a time (yield_per: a server-side cursor on PostgreSQL),
    so a million members never sit in memory, on a connection of its own opened only once the
    header has gone out (a client that leaves after it held none) and held to the last row.
    Opens with a BOM: Excel then reads the Chinese as UTF-8."""
    statement = (select(Member.id, Member.card_no, Member.nickname, Member.phone, Tier.name, Member.growth,
                        Member.points_balance, Member.created_at)
                 .join(Tier, Tier.id == Member.tier_id)
                 .where(*filters(q, tier_id))
                 .order_by(Member.id.desc())
                 .execution_options(yield_per=chunk))
    return _csv_lines(db.engine, statement, full_phone, business_tz())  # both read now: the lines are sent later


def _csv_lines(engine, statement: Select, full_phone: bool, zone: ZoneInfo) -> Iterator[str]:
    line = _csv_line()
    yield "\ufeff" + line(EXPORT_HEADER)
    with engine.connect() as connection:
        for member_id, card_no, nickname, phone, tier, growth, balance, created_at in connection.execute(statement):
            yield line((member_id, card_no, _cell(nickname), phone if full_phone else mask_phone(phone), tier,
                        growth, balance, created_at.astimezone(zone).isoformat()))


def _csv_line():
    """A function that renders one row as a CSV line (quoting as the csv module does)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    return line


def _cell(text: str | None) -> str | None:
    """A member's own text, kept from being read as a formula."""
    return "'" + text if text and text.startswith(FORMULA_STARTS) else text
