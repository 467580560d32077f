"""Pure arithmetic of earning, reversing and expiring. Integers only, always rounded down."""
from datetime import date, timedelta


def points_for(amount_fen: int, points_per_yuan: int, multiplier_pct: int) -> int:
    """floor(yuan × rate × multiplier): 199.99 yuan at 1 point/yuan and 1.5x → 299."""
    return amount_fen * points_per_yuan * multiplier_pct // (100 * 100)


def growth_for(amount_fen: int, growth_per_yuan: int) -> int:
    """floor(yuan × rate): growth takes no tier multiplier (it decides the tier)."""
    return amount_fen * growth_per_yuan // 100


def reversal_due(earned: int, amount_fen: int, refunded_before: int, refunding: int) -> int:
    """What one refund takes back, so that the parts always add up to the whole.

    Each refund reverses floor(earned × refunded-so-far / amount) minus what earlier
    refunds already reversed; a full refund, in any number of parts, reverses `earned`.
    """
    after = earned * (refunded_before + refunding) // amount_fen
    before = earned * refunded_before // amount_fen
    return after - before


def expiry_date(policy: str, credited_on: date) -> date:
    """The last business day a lot credited on `credited_on` can be spent.

    "year_end:N": 31 December of the Nth year after the credit (year_end:0 = this year).
    "days:N": N days after the credit.
    """
    kind, _, value = policy.partition(":")
    n = int(value)
    if kind == "year_end":
        return date(credited_on.year + n, 12, 31)
    if kind == "days":
        return credited_on + timedelta(days=n)
    raise ValueError(f"unknown points expiry policy {policy!r}")
