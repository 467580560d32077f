"""Passwords and signed, expiring tokens that name their audience."""
import functools
from datetime import datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

MEMBER, STAFF, ADMIN = "member", "staff", "admin"
_SALT = "membermall-auth"

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


def issue_token(secret_key: str, audience: str, subject: int) -> str:
    return _serializer(secret_key).dumps({"aud": audience, "sub": subject})


def read_token(secret_key: str, token: str) -> tuple[dict, datetime] | None:
    """The token's claims and when it was issued, or None if forged or malformed."""
    try:
        claims, issued_at = _serializer(secret_key).loads(token, return_timestamp=True)
    except BadSignature:
        return None
    if not (isinstance(claims, dict) and {"aud", "sub"} <= claims.keys()):
        return None
    return claims, issued_at
