"""The dynamic member code: text and QR image, staff lookups, staleness, forgery, rate limits."""
import base64
import struct
import zlib

import pytest
import segno
import time_machine

from tests.api_steps import bought, error_code, forged_code

LOOKUP = "/api/v1/staff/member-lookups"
# The start of a 30 s step, so "one step later" is exactly +30 s.
STEP_START = "2026-06-15T04:00:00+00:00"


def code_of(member) -> str:
    reply = member.get("/api/v1/member/card/code")
    assert reply.status_code == 200, reply.json
    return reply.json["code"]


def lookup(staff, code):
    return staff.post(LOOKUP, json={"code": code})


@time_machine.travel(STEP_START, tick=False)
def test_the_code_names_the_brand_and_the_member_and_says_when_to_refresh(world, app):
    alice = world.member("alice")
    reply = alice.get("/api/v1/member/card/code")
    code = reply.json["code"]
    assert len(code) == 18 and code.isdigit()
    assert code.startswith(app.config["MEMBER_CODE_PREFIX"])
    assert int(code[2:12]) == alice.member_id
    assert (reply.json["expires_in"], reply.json["expires_at"]) == (30, "2026-06-15T12:00:30+08:00")


def test_the_code_changes_every_step_and_counts_down(world):
    alice = world.member("alice")
    with time_machine.travel(STEP_START, tick=False) as clock:
        first = code_of(alice)
        clock.shift(10)
        later = alice.get("/api/v1/member/card/code").json
        assert (later["code"], later["expires_in"], later["expires_at"]) == (first, 20, "2026-06-15T12:00:30+08:00")
        clock.shift(20)
        assert code_of(alice) != first


def png_dark_pixels(data: bytes) -> list[list[int]]:
    """Decode a 1-bit greyscale PNG (what segno writes) into rows of 1 = dark, 0 = light.

    Checks the signature and every chunk's CRC on the way, so a truncated or corrupt
    image fails here."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        chunks.append((kind, body))
        pos += 12 + length
    assert (chunks[0][0], chunks[-1][0]) == (b"IHDR", b"IEND")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (1, 0, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = (width + 7) // 8
    assert len(raw) == height * (stride + 1)
    rows, previous = [], bytes(stride)
    for y in range(height):
        filter_type, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        assert filter_type in (0, 2)  # None or Up: all segno uses
        if filter_type == 2:
            line = bytes((a + b) & 0xFF for a, b in zip(line, previous))
        previous = line
        rows.append([1 - ((line[x // 8] >> (7 - x % 8)) & 1) for x in range(width)])
    return rows


def qr_modules(pixels: list[list[int]]) -> tuple:
    """Sample the module grid: the top-left finder pattern's first row is 7 dark modules."""
    top = next(y for y, row in enumerate(pixels) if any(row))
    left = pixels[top].index(1)
    run = next(x for x in range(left, len(pixels[top])) if not pixels[top][x]) - left
    scale = run // 7
    size = (len(pixels[top]) - 2 * left) // scale
    return tuple(tuple(pixels[top + i * scale + scale // 2][left + j * scale + scale // 2] for j in range(size))
                 for i in range(size))


def qr_of(data_url: str) -> tuple:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return qr_modules(png_dark_pixels(base64.b64decode(data_url.removeprefix(prefix), validate=True)))


def qr_matrices(code: str) -> set:
    return {tuple(map(tuple, segno.make_qr(code, error=level).matrix)) for level in "lmqh"}


def test_the_qr_image_comes_in_the_same_reply_as_the_code_of_the_same_step(world):
    alice = world.member("alice")
    with time_machine.travel(STEP_START, tick=False) as clock:
        reply = alice.get("/api/v1/member/card/code")
        assert reply.headers["Cache-Control"] == "no-store"  # a code must never come from a cache
        assert qr_of(reply.json["image"]) in qr_matrices(reply.json["code"])
        clock.shift(30)  # the next step: a new code, and its own image
        later = alice.get("/api/v1/member/card/code").json
        assert later["code"] != reply.json["code"] and qr_of(later["image"]) in qr_matrices(later["code"])
    assert alice.get("/api/v1/member/card/code.png").status_code == 404  # one way to get the code


def test_a_staff_lookup_with_a_fresh_code_returns_the_member_summary(world):
    alice, clerk = world.member("alice"), world.staff()
    alice.patch("/api/v1/member/profile", json={"nickname": "Alice"})
    alice.post("/api/v1/member/phone", json={"code": "phone-13800138000"})
    bought(clerk, alice.member_id, 1500_00)

    reply = lookup(clerk, code_of(alice))
    assert reply.status_code == 200, reply.json
    card_no = alice.get("/api/v1/member/card").json["card_no"]
    summary = dict(reply.json)
    ticket = summary.pop("lookup_ticket")  # tests/test_purchases.py: what a ticket is good for
    assert summary == {
        "member_id": alice.member_id, "card_no": card_no, "nickname": "Alice",
        "phone": "138****8000", "tier": "银卡", "tier_level": 1, "discount_pct": 98,
        "points_balance": 1500, "growth": 1500, "lookup_ticket_expires_in": 300,
        "usable_coupons": [],  # she holds none (tests/test_cashier.py: the ones she does)
    }
    assert isinstance(ticket, str) and ticket
    bob = world.member("bob")
    assert lookup(clerk, code_of(bob)).json["member_id"] == bob.member_id


def test_a_code_is_accepted_in_its_step_and_the_next_then_expires(world):
    """At most 60 s: a code from one step ago still works, from two or three steps ago it is stale."""
    alice, clerk = world.member("alice"), world.staff()
    with time_machine.travel(STEP_START, tick=False) as clock:
        code = code_of(alice)
        clock.shift(29)
        assert lookup(clerk, code).status_code == 200
        clock.shift(1)  # one step later
        assert lookup(clerk, code).status_code == 200
        for _ in range(2):  # two, then three steps later
            clock.shift(30)
            stale = lookup(clerk, code)
            assert (stale.status_code, error_code(stale)) == (410, "MEMBER_CODE_EXPIRED")


def test_forged_codes_are_invalid(app, world):
    alice, clerk = world.member("alice"), world.staff()
    real = code_of(alice)
    unknown_member = f"{real[:2]}{999_999:010d}{real[12:]}"
    beyond_ids = f"{real[:2]}{10**10 - 1}{real[12:]}"  # more than members.id can hold: no query (a 500 on PostgreSQL)
    for forged in (forged_code(app, alice.member_id), unknown_member, beyond_ids, real[:-1], real + "1",
                   "66abc" + real[5:]):
        reply = lookup(clerk, forged)
        assert (reply.status_code, error_code(reply)) == (404, "MEMBER_CODE_INVALID"), forged


def test_another_brands_code_is_foreign(app, world):
    alice, clerk = world.member("alice"), world.staff()
    real = code_of(alice)
    other_prefix = "77" if not real.startswith("77") else "55"
    reply = lookup(clerk, other_prefix + real[2:])
    assert (reply.status_code, error_code(reply)) == (422, "MEMBER_CODE_FOREIGN")


@pytest.fixture
def failure_limit(app) -> int:
    return int(app.config["MEMBER_CODE_LOOKUP_FAILURES"].split("/")[0])


@time_machine.travel(STEP_START, tick=False)
def test_repeated_failed_lookups_are_rate_limited_per_staff_account(app, world, failure_limit):
    """Guessing codes is stopped; scanning all day is not, and other counters are not affected."""
    alice, clerk, other_clerk = world.member("alice"), world.staff("clerk-a"), world.staff("clerk-b")
    good, bad = code_of(alice), forged_code(app, alice.member_id)

    for _ in range(failure_limit + 2):  # successful lookups don't count
        assert lookup(clerk, good).status_code == 200
    for _ in range(failure_limit):
        assert error_code(lookup(clerk, bad)) == "MEMBER_CODE_INVALID"
    for code in (bad, good):
        limited = lookup(clerk, code)
        assert (limited.status_code, error_code(limited)) == (429, "RATE_LIMITED")

    assert lookup(other_clerk, good).status_code == 200
    assert error_code(lookup(other_clerk, bad)) == "MEMBER_CODE_INVALID"
