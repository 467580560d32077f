"""The pure arithmetic of earning, reversing and expiring (app/points/rules.py)."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.points.rules import expiry_date, growth_for, points_for, reversal_due


@pytest.fixture(autouse=True)
def clean_state():
    """Pure arithmetic: no database or Redis to empty first (overrides conftest's)."""


@pytest.mark.parametrize(("amount_fen", "per_yuan", "multiplier_pct", "points"), [
    (199_99, 1, 150, 299),  # 299.985 rounds down, as the README promises
    (100_00, 1, 100, 100),
    (99, 1, 200, 1),  # 1.98
    (49, 1, 200, 0),  # 0.98: under a point earns nothing
    (1_00, 1, 120, 1),  # 1.2
    (8_33, 3, 120, 29),  # 29.988
    (10_000_000_000, 1, 1000, 1_000_000_000),  # the largest purchase the API accepts, 10x
])
def test_points_are_yuan_times_rate_times_multiplier_rounded_down(amount_fen, per_yuan, multiplier_pct, points):
    assert points_for(amount_fen, per_yuan, multiplier_pct) == points


@pytest.mark.parametrize(("amount_fen", "per_yuan", "growth"), [
    (199_99, 1, 199),
    (99, 1, 0),
    (1_00, 1, 1),
    (12_345, 2, 246),  # 246.9
])
def test_growth_is_yuan_times_rate_rounded_down(amount_fen, per_yuan, growth):
    assert growth_for(amount_fen, per_yuan) == growth


def test_growth_takes_no_tier_multiplier():
    """Growth decides the tier: a higher tier must not speed its own growth."""
    assert growth_for(500_00, 1) == points_for(500_00, 1, 100) == 500
    assert points_for(500_00, 1, 200) == 1000


@given(st.integers(1, 10**10), st.integers(1, 10), st.integers(0, 1000))
def test_earning_never_rounds_up(amount_fen, per_yuan, multiplier_pct):
    """The member never gets a fraction of a point: floor, exact in integers."""
    points = points_for(amount_fen, per_yuan, multiplier_pct)
    exact_times_10000 = amount_fen * per_yuan * multiplier_pct
    assert points * 10000 <= exact_times_10000 < (points + 1) * 10000


@pytest.mark.parametrize(("policy", "credited_on", "expires_on"), [
    ("year_end:1", date(2026, 6, 15), date(2027, 12, 31)),
    ("year_end:1", date(2026, 1, 1), date(2027, 12, 31)),
    ("year_end:1", date(2026, 12, 31), date(2027, 12, 31)),  # the last day of a year still counts as that year
    ("year_end:0", date(2026, 12, 31), date(2026, 12, 31)),  # expires the day it is earned
    ("year_end:0", date(2026, 1, 1), date(2026, 12, 31)),
    ("year_end:2", date(2024, 2, 29), date(2026, 12, 31)),  # a leap day credit
    ("days:1", date(2024, 2, 28), date(2024, 2, 29)),  # leap year: 29 February exists
    ("days:1", date(2025, 2, 28), date(2025, 3, 1)),  # common year: it does not
    ("days:365", date(2024, 1, 1), date(2024, 12, 31)),  # 366-day year
    ("days:365", date(2025, 1, 1), date(2026, 1, 1)),
    ("days:366", date(2023, 3, 1), date(2024, 3, 1)),  # spans 29 February 2024
    ("days:30", date(2026, 12, 15), date(2027, 1, 14)),  # across a year end
    ("days:0", date(2026, 6, 15), date(2026, 6, 15)),
])
def test_expiry_date_policies(policy, credited_on, expires_on):
    assert expiry_date(policy, credited_on) == expires_on


@pytest.mark.parametrize("policy", ["month_end:1", "forever", "days:", "year_end:x"])
def test_an_unknown_or_malformed_expiry_policy_is_refused(policy):
    """A typo in POINTS_EXPIRY must fail loudly, not credit points that never expire."""
    with pytest.raises(ValueError):
        expiry_date(policy, date(2026, 6, 15))


@st.composite
def purchase_and_refunds(draw):
    """A purchase, what it earned, and a sequence of partial refunds that may or may not cover it all."""
    amount_fen = draw(st.integers(1, 10**8))
    earned = draw(st.integers(0, 2 * 10**6))
    refunds, left = [], amount_fen
    while left and len(refunds) < 12 and draw(st.booleans()):
        part = draw(st.integers(1, left))
        refunds.append(part)
        left -= part
    if draw(st.booleans()) and left:
        refunds.append(left)  # the last refund takes what is left
    return amount_fen, earned, refunds


@given(purchase_and_refunds())
def test_proportional_reversals_add_up_to_what_was_earned_and_never_exceed_it(case):
    """Each refund takes back its share; the running total never passes the purchase's
    floor share of the refunded amount, and a complete refund takes back exactly all."""
    amount_fen, earned, refunds = case
    refunded, reversed_total = 0, 0
    for part in refunds:
        due = reversal_due(earned, amount_fen, refunded, part)
        assert due >= 0
        refunded += part
        reversed_total += due
        assert reversed_total == earned * refunded // amount_fen  # never more than the share refunded
        assert reversed_total <= earned
    if refunded == amount_fen:
        assert reversed_total == earned
