"""The dynamic member code that store staff scan (TOTP-like, like a payment code).

18 digits: brand prefix (2) + member id (10) + one-time code (6). The one-time code is
HOTP (RFC 4226 truncation of HMAC-SHA1) over the 30-second time step, keyed by the
member's own secret. A code is accepted in its step and the next one (≤ 60 s old).
"""
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app

from app.errors import AppError, MemberError
from app.extensions import db
from app.member_row import Member

CODE_RE = re.compile(r"^\d{18}$")
ACCEPTED_STEPS = 2
# A code older than this reads as forged rather than stale (2 hours of 30 s steps).
STALE_STEPS = 240
# members.id is an INTEGER: a code's 10 digits may name more (PostgreSQL would refuse the query).
MAX_MEMBER_ID = 2**31 - 1


@dataclass(frozen=True)
class MemberCode:
    code: str
    expires_at: datetime  # the end of its step: the phone shows a new code (staff accept this one a step more)
    expires_in: int  # seconds until then


def _otp(secret_hex: str, step: int) -> str:
    digest = hmac.new(bytes.fromhex(secret_hex), step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def _step(at: float) -> int:
    return int(at // current_app.config["MEMBER_CODE_STEP"])


def current_code(member: Member, at: float | None = None) -> MemberCode:
    at = time.time() if at is None else at
    step = _step(at)
    prefix = current_app.config["MEMBER_CODE_PREFIX"]
    step_seconds = current_app.config["MEMBER_CODE_STEP"]
    ends = (step + 1) * step_seconds
    return MemberCode(code=f"{prefix}{member.id:010d}{_otp(member.code_secret, step)}",
                      expires_at=datetime.fromtimestamp(ends, timezone.utc), expires_in=int(ends - at))


def member_id_digits(code: str) -> int | None:
    """The member id a code of this brand carries (digits 3 to 12), its one-time part unchecked;
    None if `code` is not one."""
    if not CODE_RE.match(code) or not code.startswith(current_app.config["MEMBER_CODE_PREFIX"]):
        return None
    member_id = int(code[2:12])
    return member_id if member_id <= MAX_MEMBER_ID else None


def resolve_code(code: str, at: float | None = None) -> Member:
    """The member a scanned code names, or the precise reason it is refused."""
    code = code.strip()
    if not CODE_RE.match(code):
        raise AppError(MemberError.MEMBER_CODE_INVALID)
    if not code.startswith(current_app.config["MEMBER_CODE_PREFIX"]):
        raise AppError(MemberError.MEMBER_CODE_FOREIGN)
    member_id = member_id_digits(code)
    member = db.session.get(Member, member_id) if member_id is not None else None
    if member is None:
        raise AppError(MemberError.MEMBER_CODE_INVALID)
    step = _step(time.time() if at is None else at)
    otp = code[12:]
    if any(hmac.compare_digest(otp, _otp(member.code_secret, step - k)) for k in range(ACCEPTED_STEPS)):
        return member
    if any(hmac.compare_digest(otp, _otp(member.code_secret, step - k))
           for k in range(ACCEPTED_STEPS, STALE_STEPS)):
        raise AppError(MemberError.MEMBER_CODE_EXPIRED)
    raise AppError(MemberError.MEMBER_CODE_INVALID)
