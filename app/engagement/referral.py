"""Referral (邀请): invite codes, binding at first login, rewards on a qualifying action.

Rules (the settings in settings.ReferralRules, the rest decided here):
- A member's invite code is their id in Crockford base32 plus a 4-character tag derived
  from their own secret: stable, needs no table, and cannot be guessed from the id.
- Binding happens only in the login request that creates the invitee; a bad code
  refuses that login (INVITE_CODE_INVALID) so the member is not created half-bound.
  Logins of existing members ignore any invite code. An invitee has one inviter, ever.
- Self-invitation is recorded as refused (reason `self_invitation`): the same unionid at
  binding (another app of the brand), or, when the invitee binds a phone, a phone the
  inviter ever had. The same openid never binds: an existing member's login creates no one.
- An invitee whose phone was ever bound by another member is refused (`phone_reused`);
  phones are remembered in phone_bindings from the moment each is bound.
- Rewards are paid when the invitee qualifies (`qualify_on`: phone bound, or the first
  purchase recorded while the referral is pending), never at sign-up, to both sides,
  each under a key naming the invitee, so a referral pays once.
- Caps count rewarded (and later reversed) invitations of the inviter per business day
  and per business month; an invitee qualifying past a cap is refused (`daily_cap`,
  `monthly_cap`) and neither side is paid. The inviter's row lock serializes the count.
- A qualifying purchase refunded in full within `reversal_window_days` of the purchase
  reverses both rewards (state `reversed`); points already spent leave a negative
  balance, as refunds do.
- A reward emits `referral.rewarded(referral)` and writes the outbox event
  `referral_rewarded` for the inviter, payload {invitee (nickname, or 新朋友), points,
  growth (the inviter's reward), rewarded_on (YYYY-MM-DD)}.
Locks follow the lock order (app/db_helpers.py): the inviter, always the older member
(lower id), before the invitee. A write that may qualify a pending referral (the
invitee's own requests, a purchase) or reverse a rewarded one (a refund) locks both at
its start, with `lock_invitee` or `lock_for_refund`.
"""
import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select, update

from app.clock import now, today
from app.db_helpers import end_transaction, insert_ignoring_conflict, lock_rows, locking, newest_first
from app.engagement.models import PENDING, REFUSED, REVERSED, REWARDED, PhoneBinding, Referral
from app.engagement.rewards import Reward, pay, take_back
from app.engagement.settings import FIRST_PURCHASE, PHONE_BOUND, ReferralRules, load
from app.errors import AppError, EngagementError
from app.events import emit
from app.extensions import db
from app.member_row import Member, lock_members
from app.messaging.kinds import EventKind
from app.messaging.service import record_event
from app.tags import ALPHABET, tag, tag_matches
from app.wechat import get_wechat

TAG_LENGTH = 4
CODE_RE = re.compile(f"^[{ALPHABET}]{{{TAG_LENGTH + 1},{TAG_LENGTH + 7}}}$")
SELF_INVITATION, PHONE_REUSED, DAILY_CAP, MONTHLY_CAP = "self_invitation", "phone_reused", "daily_cap", "monthly_cap"


# --- codes -----------------------------------------------------------------------------


def _base32(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 32)
        digits = ALPHABET[rest] + digits
        if not number:
            return digits


def code_of(member: Member) -> str:
    return _base32(member.id) + tag(bytes.fromhex(member.code_secret), b"invite-code", TAG_LENGTH)


def inviter_for(code: str) -> Member:
    code = code.strip().upper()
    if not CODE_RE.match(code):
        raise AppError(EngagementError.INVITE_CODE_INVALID)
    member_id = 0
    for char in code[:-TAG_LENGTH]:
        member_id = member_id * 32 + ALPHABET.index(char)
    member = db.session.get(Member, member_id)
    if member is None or not tag_matches(bytes.fromhex(member.code_secret), b"invite-code", code[-TAG_LENGTH:]):
        raise AppError(EngagementError.INVITE_CODE_INVALID)
    return member


def invite_scene(member: Member) -> str:
    """The wxacode scene (≤ 32 characters): the mini-program reads `i` and logs in with it."""
    return f"i={code_of(member)}"


def invite_qr_png(member: Member) -> bytes:
    scene = invite_scene(member)
    end_transaction()  # the token check's read: WeChat may be slow
    return get_wechat().mini_program_code(scene, current_app.config["INVITE_PAGE"])


# --- binding ---------------------------------------------------------------------------


def on_member_joined(member: Member, invite_code: str | None) -> None:
    """A member's first login (app/members/service.py login) binds them to the inviter the code names."""
    if invite_code:
        bind(member, inviter_for(invite_code))


def bind(invitee: Member, inviter: Member) -> Referral:
    """Bind a member just created. (The same openid cannot happen here: a login with an
    existing openid creates no one, so no one is bound to their own code.)"""
    same_person = inviter.unionid is not None and inviter.unionid == invitee.unionid
    insert_ignoring_conflict(Referral, {
        "inviter_id": inviter.id, "invitee_id": invitee.id,
        "state": REFUSED if same_person else PENDING, "reason": SELF_INVITATION if same_person else None,
    }, ["invitee_id"])
    return db.session.execute(select(Referral).where(Referral.invitee_id == invitee.id)).scalar_one()


# --- locking ---------------------------------------------------------------------------


def _locking_with_inviter(*referral_is):
    """The member :member_id and the inviter of their referral matching `referral_is`, in one
    statement (built once: building costs more than running it; `id IN (…)` is one index scan)."""
    inviter = select(Referral.inviter_id).where(Referral.invitee_id == bindparam("member_id"), *referral_is)
    return locking(Member, Member.id.in_([bindparam("member_id"), inviter.scalar_subquery()]))


_WITH_PENDING_INVITER = _locking_with_inviter(Referral.state == PENDING)
_WITH_INVITER_PAID_FOR = _locking_with_inviter(Referral.state == REWARDED,
                                               Referral.purchase_id == bindparam("purchase_id"))


def lock_invitee(member_id: int) -> Member | None:
    """Lock a member for a write, with the inviter first while their referral is pending (the
    write may qualify it); None if there is no such member."""
    rows = lock_rows(_WITH_PENDING_INVITER, {"member_id": member_id})
    return next((row for row in rows if row.id == member_id), None)


def lock_for_refund(purchase) -> None:
    """Lock the purchase's member for a refund, with the inviter first when the purchase
    qualified their referral (a full refund takes both rewards back)."""
    lock_rows(_WITH_INVITER_PAID_FOR, {"member_id": purchase.member_id, "purchase_id": purchase.id})


# --- qualifying, rewarding, reversing -------------------------------------------------


def on_phone_bound(member: Member) -> None:
    """Remember the phone; refuse a pending referral on a phone that was someone else's."""
    owners = set(db.session.execute(select(PhoneBinding.member_id).where(
        PhoneBinding.phone == member.phone, PhoneBinding.member_id != member.id)).scalars())
    insert_ignoring_conflict(PhoneBinding, {"phone": member.phone, "member_id": member.id}, ["phone", "member_id"])
    referral = _pending(member.id)
    if referral is None:
        return
    if owners:
        _refuse(referral, SELF_INVITATION if referral.inviter_id in owners else PHONE_REUSED)
    elif load(ReferralRules).qualify_on == PHONE_BOUND:
        _qualify(referral, "phone")


def on_purchase_recorded(purchase, **_) -> None:
    referral = _pending(purchase.member_id)
    if referral is not None and load(ReferralRules).qualify_on == FIRST_PURCHASE:
        _qualify(referral, f"purchase:{purchase.id}", purchase_id=purchase.id)


def on_purchase_refunded(purchase, **_) -> None:
    """A qualifying purchase refunded in full within the window takes both rewards back."""
    if purchase.refunded_fen < purchase.amount_fen:
        return
    window = timedelta(days=load(ReferralRules).reversal_window_days)
    if now() - purchase.created_at > window:
        return
    referral = db.session.execute(select(Referral).where(
        Referral.purchase_id == purchase.id, Referral.state == REWARDED)).scalar_one_or_none()
    if referral is None or not _move(referral, REWARDED, state=REVERSED, reversed_at=now()):
        return
    lock_members([referral.inviter_id, referral.invitee_id])
    key, ref = f"referral:{referral.invitee_id}", f"referral:{referral.id}"
    take_back(referral.inviter_id, Reward(referral.inviter_points, referral.inviter_growth),
              "referral_reversal", f"{key}:inviter:reversal", ref)
    take_back(referral.invitee_id, Reward(referral.invitee_points, referral.invitee_growth),
              "referral_reversal", f"{key}:invitee:reversal", ref)


def _pending(invitee_id: int) -> Referral | None:
    return db.session.execute(select(Referral).where(
        Referral.invitee_id == invitee_id, Referral.state == PENDING)).scalar_one_or_none()


def _move(referral: Referral, from_state: str, **values) -> bool:
    """A guarded state change: False if a concurrent transaction moved the referral first."""
    moved = db.session.execute(update(Referral).where(Referral.id == referral.id, Referral.state == from_state)
                               .values(**values).execution_options(synchronize_session=False)).rowcount == 1
    db.session.refresh(referral)
    return moved


def _refuse(referral: Referral, reason: str) -> None:
    _move(referral, PENDING, state=REFUSED, reason=reason)


def _qualify(referral: Referral, qualified_by: str, purchase_id: int | None = None) -> None:
    rules = load(ReferralRules)
    # the inviter's lock serializes the cap count among this inviter's invitees
    lock_members([referral.inviter_id, referral.invitee_id])
    if reason := _cap_reached(referral.inviter_id, rules):
        _refuse(referral, reason)
        return
    paid = _move(referral, PENDING, state=REWARDED, qualified_by=qualified_by, purchase_id=purchase_id,
                 rewarded_on=today(), rewarded_at=now(),
                 inviter_points=rules.inviter.points, inviter_growth=rules.inviter.growth,
                 invitee_points=rules.invitee.points, invitee_growth=rules.invitee.growth)
    if not paid:
        return
    key, ref = f"referral:{referral.invitee_id}", f"referral:{referral.id}"
    pay(referral.inviter_id, rules.inviter, "referral", f"{key}:inviter", ref)
    pay(referral.invitee_id, rules.invitee, "referral", f"{key}:invitee", ref)
    invitee = db.session.get(Member, referral.invitee_id)
    record_event(EventKind.REFERRAL_REWARDED, referral.inviter_id, {
        "invitee": invitee.nickname or "新朋友", "points": rules.inviter.points, "growth": rules.inviter.growth,
        "rewarded_on": today().isoformat(),
    })
    emit("referral.rewarded", referral=referral)


def _cap_reached(inviter_id: int, rules: ReferralRules) -> str | None:
    current = today()
    counted = select(func.count()).select_from(Referral).where(
        Referral.inviter_id == inviter_id, Referral.state.in_((REWARDED, REVERSED)))
    for reason, cap, since in ((DAILY_CAP, rules.daily_cap, current), (MONTHLY_CAP, rules.monthly_cap,
                                                                        current.replace(day=1))):
        if cap is not None and db.session.execute(counted.where(Referral.rewarded_on >= since)).scalar_one() >= cap:
            return reason
    return None


# --- what the inviter sees -------------------------------------------------------------


def invitation_card(member: Member) -> dict:
    """What the invite page shows: the code, the scene and page of the mini-program code,
    the rewards and how the member's invitations stand."""
    rules = load(ReferralRules)
    return {
        "code": code_of(member), "scene": invite_scene(member), "page": current_app.config["INVITE_PAGE"],
        "qualify_on": rules.qualify_on, "inviter_reward": rules.inviter, "invitee_reward": rules.invitee,
        "counts": invitation_summary(member.id),
    }


def invitations_page(inviter_id: int, before_id: int | None, limit: int) -> list[Referral]:
    """The inviter's invitations, newest first, `limit` of them older than the cursor."""
    return newest_first(Referral, before_id, limit, Referral.inviter_id == inviter_id)


def invitation_summary(inviter_id: int) -> dict:
    counts = dict(db.session.execute(select(Referral.state, func.count()).where(
        Referral.inviter_id == inviter_id).group_by(Referral.state)).all())
    return {state: counts.get(state, 0) for state in (PENDING, REWARDED, REFUSED, REVERSED)}
