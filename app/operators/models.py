from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.extensions import db
from app.operators.roles import ADMIN
from app.types import UtcDateTime


class Operator(db.Model):
    """An operator (运营) account for the admin API."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    # app/operators/roles.py: admin, operator or analyst. Accounts made before roles existed are admins.
    role: Mapped[str] = mapped_column(String(16), default=ADMIN, server_default=ADMIN)
    # Bumped by a logout, a password change or disabling: tokens carrying an older version end.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
