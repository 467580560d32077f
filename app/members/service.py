"""Members: login (the first one creates the member), profile and phone, growth with its tier consequences."""
import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db_helpers import insert_ignoring_conflict
from app.errors import AppError, MemberError
from app.events import emit
from app.extensions import db
from app.member_row import Member
from app.members.tiers import entry_tier, retier
from app.points import service as ledger
from app.wechat import get_wechat


def get_member(member_id: int) -> Member:
    member = db.session.get(Member, member_id)
    if member is None:
        raise AppError(MemberError.MEMBER_NOT_FOUND)
    return member


def login(js_code: str, invite_code: str | None = None) -> tuple[Member, bool]:
    """Exchange a wx.login code for the member, creating them on their first login. A member
    created here joins with the invite code they came with (`member.joined`: app/engagement's
    referral binds them to its inviter, or refuses the login for a bad code)."""
    session = get_wechat().code_to_session(js_code)
    member, created = get_or_create(session.openid, session.unionid)
    if created:
        emit("member.joined", member=member, invite_code=invite_code)
    return member, created


def get_or_create(openid: str, unionid: str | None) -> tuple[Member, bool]:
    # INSERT … ON CONFLICT DO NOTHING: two first logins at once make one member.
    created = insert_ignoring_conflict(Member, {
        "openid": openid,
        "unionid": unionid,
        "card_no": f"8{secrets.randbelow(10**15):015d}",
        "code_secret": secrets.token_hex(20),
        "tier_id": entry_tier().id,
    }, ["openid"])
    member = db.session.execute(select(Member).where(Member.openid == openid)).scalar_one()
    return member, created


def update_profile(member: Member, nickname: str | None = None, gender: str | None = None,
                   birthday: date | None = None) -> Member:
    """Birthday is set once: it drives birthday benefits, so it cannot be moved to farm them."""
    if birthday is not None and member.birthday not in (None, birthday):
        raise AppError(MemberError.BIRTHDAY_ALREADY_SET)
    for field, value in (("nickname", nickname), ("gender", gender), ("birthday", birthday)):
        if value is not None:
            setattr(member, field, value)
    db.session.flush()
    emit("member.profile_saved", member=member)
    return member


def phone_number(phone_code: str) -> str:
    """The number behind a `getPhoneNumber` code. Ask before the transaction that binds it:
    a slow WeChat must not hold the member's row lock (on SQLite, every writer)."""
    return get_wechat().phone_number(phone_code)


def bind_phone(member: Member, phone: str) -> Member:
    if member.phone == phone:
        return member
    try:
        with db.session.begin_nested():
            member.phone = phone
    except IntegrityError:  # the unique index: another member has this phone
        raise AppError(MemberError.PHONE_TAKEN) from None
    emit("member.phone_bound", member=member)
    return member


def change_growth(member_id: int, delta: int, posting: ledger.Posting, allow_downgrade: bool = False):
    """Post growth to the ledger, then move the tier the new growth decides."""
    entry_id = ledger.change_growth(member_id, delta, posting)
    member = db.session.get(Member, member_id)
    retier(member, reason=posting.kind, ref=posting.ref, allow_downgrade=allow_downgrade)
    return entry_id
