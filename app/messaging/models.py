"""The outbox, message rules, subscription quota, the message log and reminders sent."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.extensions import db
from app.types import BigId, UtcDateTime

TEMPLATE_ID_LENGTH = 64


class OutboxEvent(db.Model):
    """A domain event written in the business transaction; sent only after it commits."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MessageRule(db.Model):
    """Which subscribe-message template an event kind sends, with which data, opening which page.

    `fields` maps a template key ("thing1", "date2", …) to a text with {placeholders}
    filled from the event's payload; operators edit rules through the admin API.
    """

    __tablename__ = "message_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_kind: Mapped[str] = mapped_column(String(40), unique=True)
    template_id: Mapped[str] = mapped_column(String(TEMPLATE_ID_LENGTH), index=True)
    page: Mapped[str | None] = mapped_column(String(200))
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class Subscription(db.Model):
    """What a member accepted in wx.requestSubscribeMessage, per template.

    One-time templates: `remaining` sends left (one per acceptance). Long-term templates
    (a setting): `remaining` > 0 means subscribed, and a send does not use it up.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("member_id", "template_id"),
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    template_id: Mapped[str] = mapped_column(String(TEMPLATE_ID_LENGTH))
    remaining: Mapped[int] = mapped_column(default=0)
    accepted_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


# Message statuses. Final: SENT, SKIPPED, FAILED, UNCONFIRMED.
PENDING, SENDING, RETRYING = "pending", "sending", "retrying"
SENT, SKIPPED, FAILED, UNCONFIRMED = "sent", "skipped", "failed", "unconfirmed"
FINAL = (SENT, SKIPPED, FAILED, UNCONFIRMED)


class Message(db.Model):
    """The log of one subscribe message: one per (event, member, template), whatever retries.

    The unique key is what makes an event send at most once per member and template;
    see app/messaging/delivery.py for the states and the guarantee around the WeChat call.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id", "template_id"),
        Index("ix_messages_status_updated_at", "status", "updated_at"),
        Index("ix_messages_member_id_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(40))
    template_id: Mapped[str] = mapped_column(String(TEMPLATE_ID_LENGTH))
    openid: Mapped[str] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    # A one-time acceptance is taken when first claimed and held through retries.
    quota_held: Mapped[bool] = mapped_column(Boolean, default=False)
    # The job (attempt) that holds the claim: its retry knows its own earlier try died.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class Reminder(db.Model):
    """A reminder already written, once per (kind, member, key): e.g. points expiring on a
    date at an offset, a tier review. Shared by every scheduled reminder (coupons too)."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("kind", "member_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
