"""Orders tables: a region's school terms, and schools' orders of whitelisted items.

An order keeps the fee it was placed at (the whitelist entry's published fee, copied at
the order instant) and the people named to teach it (`school_order_people`, one row per
person, so the orders that name a person are found by index). Its state is the workflow
state (workflows/school_order.py); its standing is never stored: it is derived when read.
"""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, SmallInteger, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from service.timeutil import utcnow


class Term(SQLModel, table=True):
    """A school term of a region (学期): the frame of orders and timetables."""

    __tablename__ = "terms"
    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="ck_terms_dates"),
        CheckConstraint("timetable_due_on >= starts_on", name="ck_terms_timetable_due"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)
    name: str = Field(max_length=100)
    starts_on: date  # China civil dates, first and last day
    ends_on: date
    timetable_due_on: date  # the timetable must be published by this day (§1(3): a month)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: UUID | None = Field(default=None, foreign_key="accounts.id")


class SchoolOrder(SQLModel, table=True):
    """A school's order (点单) of one whitelisted service item for one term."""

    __tablename__ = "school_orders"
    __table_args__ = (
        CheckConstraint("class_size >= 1", name="ck_school_orders_class_size"),
        CheckConstraint("end_time > start_time", name="ck_school_orders_times"),
        CheckConstraint("cardinality(weekdays) >= 1", name="ck_school_orders_weekdays"),
        CheckConstraint("state IN ('placed', 'accepted', 'declined', 'cancelled')", name="ck_school_orders_state"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    school_id: UUID = Field(foreign_key="schools.id", index=True)
    term_id: UUID = Field(foreign_key="terms.id", index=True)
    service_item_id: UUID = Field(foreign_key="service_items.id", index=True)
    vendor_id: UUID = Field(foreign_key="vendors.id", index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=6, index=True)  # the school's
    weekdays: list[int] = Field(sa_column=Column(ARRAY(SmallInteger()), nullable=False))  # ISO 1 = Monday
    start_time: time
    end_time: time
    venue: str = Field(max_length=200)
    class_size: int
    grade_bands: list[str] = Field(sa_column=Column(ARRAY(String(32)), nullable=False))
    fee: int  # fen per `fee_unit`: the whitelist entry's published fee at the order instant
    fee_unit: str = Field(max_length=16)
    state: str = Field(max_length=16)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    created_by: UUID | None = Field(default=None, foreign_key="accounts.id")
    updated_at: datetime = Field(default_factory=utcnow)
    # When the vendor accepted: the order's fee is on the school's public fee list, and
    # chargeable, from this instant's China date (§3(2)).
    accepted_at: datetime | None = None


class SchoolOrderPerson(SQLModel, table=True):
    """A person named to teach an order, in the order the school listed them."""

    __tablename__ = "school_order_people"

    order_id: UUID = Field(foreign_key="school_orders.id", primary_key=True)
    person_id: UUID = Field(foreign_key="people.id", primary_key=True, index=True)
    position: int
