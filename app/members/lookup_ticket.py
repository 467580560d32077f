"""The lookup ticket: a clerk scanned this member's code a moment ago.

A member lookup answers with one; a purchase may name the member by it rather than by a
fresh code (the code on the phone may have changed while the order was rung up). It is
stateless: signed with SECRET_KEY under its own salt, it names the member, the staff
account and that account's store, and is good for MEMBER_LOOKUP_TICKET_TTL seconds, for
that account only. A signature cannot be guessed, so a refused ticket does not count
against the code-guessing limit.
"""
import functools

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.errors import AppError, MemberError
from app.member_row import Member
from app.stores.models import Staff

_SALT = "membermall-member-lookup"


@functools.lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def issue_ticket(member: Member, staff: Staff) -> str:
    return _serializer(current_app.config["SECRET_KEY"]).dumps(
        {"member": member.id, "staff": staff.id, "store": staff.store_id})


def member_id_of(ticket: str, staff: Staff) -> int:
    """The member a ticket names, if it is genuine, fresh and this staff account's."""
    serializer = _serializer(current_app.config["SECRET_KEY"])
    try:
        claims = serializer.loads(ticket, max_age=current_app.config["MEMBER_LOOKUP_TICKET_TTL"])
    except SignatureExpired:
        raise AppError(MemberError.LOOKUP_TICKET_EXPIRED) from None
    except BadSignature:
        raise AppError(MemberError.LOOKUP_TICKET_INVALID) from None
    if (claims["staff"], claims["store"]) != (staff.id, staff.store_id):
        raise AppError(MemberError.LOOKUP_TICKET_FOREIGN)
    return claims["member"]
