"""What the rating pages read: an order's rating state for its school (rated or not,
codes issued and used), the rating window of a term, and re-reviews with the names a
reviewer reads (item, vendor, term) instead of ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy import func
from sqlmodel import col, select

from service.db import Database
from service.orders import OrderedSlot, accepted_orders, terms_for_region
from service.ratings.models import ItemReReview, OrderRating, RatingCode
from service.ratings.services import CLOSES_AFTER_END, OPENS_BEFORE_END, list_re_reviews
from service.schools import visible_school
from service.security import Actor
from service.service_items import items_by_ids
from service.vendors import vendors_by_ids


@dataclass(frozen=True)
class RatingRow:
    """One accepted order of the term, as its school sees its ratings."""

    order: OrderedSlot
    school_satisfied: bool | None  # None: the school has not rated it yet
    codes_issued: int
    codes_used: int


def rating_window(term_ends_on: date) -> tuple[date, date]:
    """The first and last day on which a term's orders may be rated."""
    return term_ends_on - OPENS_BEFORE_END, term_ends_on + CLOSES_AFTER_END


async def school_rating_rows(db: Database, actor: Actor, school_code: str, term_id: UUID) -> list[RatingRow]:
    """The school's accepted orders of the term (the ones that can be rated), each with
    the school's own verdict and how many codes were issued and used."""
    async with db.transaction() as session:
        school = await visible_school(session, actor, school_code)
        orders = await accepted_orders(session, school.id, term_id)
        ids = [o.order_id for o in orders]
        if not ids:
            return []
        verdicts: dict[UUID, bool] = dict(
            (
                await session.exec(
                    select(OrderRating.order_id, OrderRating.satisfied).where(
                        col(OrderRating.order_id).in_(ids), OrderRating.rater == "school"
                    )
                )
            ).all()
        )
        codes: dict[UUID, tuple[int, int]] = {
            order_id: (issued, used)
            for order_id, issued, used in (
                await session.exec(
                    select(RatingCode.order_id, func.count(), func.count(col(RatingCode.used_at)))
                    .where(col(RatingCode.order_id).in_(ids))
                    .group_by(col(RatingCode.order_id))
                )
            ).all()
        }
    return [RatingRow(o, verdicts.get(o.order_id), *codes.get(o.order_id, (0, 0))) for o in orders]


@dataclass(frozen=True)
class ReReviewView:
    review: ItemReReview
    activity: str
    vendor_name: str
    term_name: str

    @property
    def share(self) -> float:
        return self.review.satisfied / self.review.ratings


async def re_review_views(
    db: Database, actor: Actor, region_code: str, *, state: str | None = "open"
) -> list[ReReviewView]:
    """`list_re_reviews` (its scope and its checks), with the item's, vendor's and term's names."""
    reviews = await list_re_reviews(db, actor, region_code, state=state)
    if not reviews:
        return []
    async with db.transaction() as session:
        items = await items_by_ids(session, [r.service_item_id for r in reviews])
        vendors = await vendors_by_ids(session, [r.vendor_id for r in reviews])
        terms = {}
        for code in {r.region_code for r in reviews}:
            terms.update({t.id: t.name for t in await terms_for_region(session, code)})
    return [
        ReReviewView(
            r,
            items[r.service_item_id].activity if r.service_item_id in items else "—",
            vendors[r.vendor_id].name if r.vendor_id in vendors else "—",
            terms.get(r.term_id, "—"),
        )
        for r in reviews
    ]
