"""Short tags that prove a code was made by us: an HMAC of what the code names under a
secret, written in Crockford base32 (no I, L, O, U), so they cannot be guessed from the id."""
import hashlib
import hmac

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def tag(secret: bytes, message: bytes, length: int) -> str:
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return "".join(ALPHABET[byte % 32] for byte in digest[:length])


def tag_matches(secret: bytes, message: bytes, given: str) -> bool:
    return hmac.compare_digest(tag(secret, message, len(given)), given)
