"""Coupon codes: 13 Crockford base32 characters from the OS's CSPRNG, i.e. 65 random bits.

The code is the coupon's only secret (staff scan or type it), so it carries no id and no
structure: a guesser's chance per try is (coupons alive) / 2**65. Crockford's alphabet
has no I, L, O or U, and reading maps the look-alikes back (I, L → 1; O → 0), ignoring
case, spaces and hyphens, so a code read aloud or typed by hand still matches.
"""
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 13
BITS = 65  # 13 × 5
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_CODE_RE = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    number = secrets.randbits(BITS)
    return "".join(ALPHABET[(number >> shift) & 31] for shift in range(BITS - 5, -1, -5))


def normalize(text: str) -> str | None:
    """The canonical code for what staff scanned or typed, or None if it cannot be one."""
    code = re.sub(r"[\s-]", "", text).upper().translate(_LOOK_ALIKES)
    return code if _CODE_RE.match(code) else None


def grouped(code: str) -> str:
    """For reading aloud: ABCD-EFGH-JKMNP."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"
