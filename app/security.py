"""Passwords and signed, expiring tokens that name their audience, their account and the
account's token version (a version bump ends every token issued before it)."""
import functools
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

MEMBER, STAFF, ADMIN = "member", "staff", "admin"
AUDIENCES = (MEMBER, STAFF, ADMIN)
_SALT = "membermall-auth"
# Between the servers that issue and read tokens; a token from further ahead comes from a
# clock gone wrong and would outlive its lifetime.
CLOCK_SKEW = timedelta(minutes=1)
_MAX_ACCOUNT_ID = 2**31 - 1  # the accounts' id columns are INTEGER: a larger subject names no one

# Checked against on unknown usernames too, so a login takes as long either way.
_DUMMY_HASH = generate_password_hash("not-a-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    return check_password_hash(stored_hash or _DUMMY_HASH, password) and stored_hash is not None


@functools.lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    """One per key: every request reads a token, and building the serializer costs more."""
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def issue_token(secret_key: str, audience: str, subject: int, version: int = 0) -> str:
    """`version` is the account's token_version (0 for an account whose tokens were never ended)."""
    return _serializer(secret_key).dumps({"aud": audience, "sub": subject, "ver": version})


def read_token(secret_key: str, token: str) -> tuple[dict, datetime] | None:
    """The token's claims and when it was issued, or None if forged or malformed."""
    try:
        claims, issued_at = _serializer(secret_key).loads(token, return_timestamp=True)
    except BadSignature:
        return None
    if not (isinstance(claims, dict) and claims.get("aud") in AUDIENCES
            and _is_int(claims.get("sub"), 1, _MAX_ACCOUNT_ID) and _is_int(claims.get("ver"), 0, 2**63 - 1)):
        return None
    return claims, issued_at


def token_in_date(issued_at: datetime, lifetime_seconds: int, at: datetime) -> bool:
    """Issued within the lifetime before `at`, and not after `at` beyond the clock skew."""
    return at - timedelta(seconds=lifetime_seconds) <= issued_at <= at + CLOCK_SKEW


def _is_int(value, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high  # not bool, which is an int to Python
