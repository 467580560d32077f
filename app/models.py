"""Every model, imported in one place so Alembic and the tests see the whole schema."""
from app.api.idempotency import IdempotencyRecord  # noqa: F401
from app.members.models import Member, Tier, TierChange  # noqa: F401
from app.messaging.models import OutboxEvent  # noqa: F401
from app.operators.models import Operator  # noqa: F401
from app.points.models import LedgerEntry, LotConsumption, PointLot  # noqa: F401
from app.purchases.models import Purchase, Refund  # noqa: F401
from app.stores.models import Staff, Store  # noqa: F401
