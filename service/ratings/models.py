"""Ratings tables: one-time rating codes, the ratings themselves, and items' re-reviews.

A rating code is handed by the school to a pupil or parent; it is stored only as a hash
and used once. A rating keeps no link to its code or to anyone: anonymous, counted once
(the code is marked used in the same transaction). A re-review is opened automatically
when an item's term satisfaction in a region falls below the region's threshold.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow


class RatingCode(SQLModel, table=True):
    __tablename__ = "rating_codes"

    code_hash: str = Field(sa_column=Column(String(64, collation="C"), primary_key=True))
    order_id: UUID = Field(foreign_key="school_orders.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class OrderRating(SQLModel, table=True):
    __tablename__ = "order_ratings"
    __table_args__ = (
        CheckConstraint("rater IN ('school', 'public')", name="ck_order_ratings_rater"),
        # The school rates each order once; pupils and parents once per code.
        Index("uq_order_ratings_school", "order_id", unique=True, postgresql_where=text("rater = 'school'")),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    order_id: UUID = Field(foreign_key="school_orders.id", index=True)
    service_item_id: UUID = Field(foreign_key="service_items.id", index=True)
    term_id: UUID = Field(foreign_key="terms.id", index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=6)  # the school's
    rater: str = Field(max_length=8)
    satisfied: bool
    created_at: datetime = Field(default_factory=utcnow)


class ItemReReview(SQLModel, table=True):
    """An item whose term satisfaction in a region fell below the threshold: the bureau
    must look at it again (closed by a reviewer with a reason, after acting on the
    whitelist as it sees fit)."""

    __tablename__ = "item_re_reviews"
    __table_args__ = (
        UniqueConstraint("service_item_id", "region_code", "term_id", name="uq_item_re_reviews_item_region_term"),
        CheckConstraint("state IN ('open', 'closed')", name="ck_item_re_reviews_state"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    service_item_id: UUID = Field(foreign_key="service_items.id")
    vendor_id: UUID = Field(foreign_key="vendors.id")
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)
    term_id: UUID = Field(foreign_key="terms.id")
    satisfied: int  # the counts when it opened
    ratings: int
    threshold_percent: int
    state: str = Field(max_length=8)
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    closed_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    close_reason: str | None = Field(default=None, max_length=2000)
