"""A TypeScript client generated from /openapi.json by openapi-typescript compiles under tsc --strict,
and a front end's use of it type-checks: the document is one a generated client can use.
The tools are pinned in package.json; `npm ci` (make test does it) installs them under node_modules."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import Caller

BIN = Path(__file__).resolve().parent.parent / "node_modules" / ".bin"

# What a mini-program's code does with the generated types: read a card, send a purchase. A field
# the document lost or retyped fails the compilation here.
USAGE = """
import type { paths, operations } from "./api";

type Card = paths["/api/v1/member/card"]["get"]["responses"][200]["content"]["application/json"];
type PurchaseBody = NonNullable<operations["staff_record_purchase"]["requestBody"]>["content"]["application/json"];
type Purchase = operations["staff_record_purchase"]["responses"][201]["content"]["application/json"];
type Coupons = operations["member_mall_list_coupons"]["responses"][200]["content"]["application/json"];
type Purchases = operations["member_history_purchases"]["responses"][200]["content"]["application/json"];
type Report = operations["member_messaging_report_subscriptions"]["requestBody"]["content"]["application/json"];
type MemberCode = operations["member_member_code"]["responses"][200]["content"]["application/json"];

export function pointsOf(card: Card): number | undefined {
  return card.points?.balance;
}
export const body: PurchaseBody = { lookup_ticket: "t", order_no: "POS-1", amount_fen: 100 };
export function balanceAfter(purchase: Purchase): number | undefined {
  return purchase.member?.points_balance;
}
export function states(page: Coupons): ("issued" | "used" | "expired" | "voided" | undefined)[] {
  return (page.items ?? []).map((coupon) => coupon.state);
}
// what wx.requestSubscribeMessage's success receives, passed on as it is
export const report: Report = { errMsg: "requestSubscribeMessage:ok", "tmpl-a": "accept", "tmpl-b": "reject" };
export function imageSrc(code: MemberCode): string | undefined {
  return code.image;  // a data URL: <image src> shows it without a request
}
export function nextCursor(page: Purchases): number | null {
  return page.items.length ? page.next_cursor : null;  // a list's shape: items and next_cursor, both there
}
"""


@pytest.fixture
def tools():
    if not (BIN / "tsc").exists() or not (BIN / "openapi-typescript").exists():
        missing = "openapi-typescript and tsc are not installed: npm ci (make test runs it)"
        if os.environ.get("REQUIRE_TYPESCRIPT_CHECK"):  # make test: a check it cannot run is a failure
            pytest.fail(missing)
        pytest.skip(missing)
    return BIN


def test_the_generated_typescript_client_compiles(app, tools, tmp_path):
    (tmp_path / "openapi.json").write_text(json.dumps(Caller(app).get("/openapi.json").json))
    subprocess.run([tools / "openapi-typescript", "openapi.json", "-o", "api.ts"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    (tmp_path / "usage.ts").write_text(USAGE)
    compiled = subprocess.run([tools / "tsc", "--strict", "--noEmit", "--target", "es2020", "--moduleResolution",
                               "node", "api.ts", "usage.ts"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=180)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
