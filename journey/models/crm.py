"""Per CRM deal, the last stage change applied: CRMs deliver in delivery order, not occurrence order."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class CrmDealStage(Base):
    """The watermark of one CRM deal: an older stage change than `occurred_at` is never applied."""

    __tablename__ = "crm_deal_stage"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    pipeline: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str | None] = mapped_column(String(200))
    won: Mapped[bool] = mapped_column(default=False)
    occurred_at: Mapped[datetime]
    event_id: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
