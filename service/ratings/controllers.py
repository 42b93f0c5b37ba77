"""HTTP for ratings: the school's, the public's by code, and the bureau's re-reviews."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from schemas.ratings import (
    CodeRequest,
    CodesOut,
    PublicRating,
    PublicRatingOut,
    RatingOut,
    ReReviewClose,
    ReReviewList,
    ReReviewOut,
    SatisfactionOut,
    SchoolRating,
)
from service.ratings import services
from service.ratings.models import ItemReReview
from service.security import Role
from service.web.access import access, public
from service.web.deps import DB, CurrentActor, Keys
from service.web.params import PathText, QueryText

STAFF = (Role.REVIEWER, Role.AUDITOR, Role.ADMIN)


def _satisfaction(found: services.Satisfaction) -> SatisfactionOut:
    return SatisfactionOut(
        satisfied=found.satisfied,
        ratings=found.ratings,
        share=found.share,
        threshold_percent=found.threshold_percent,
        re_review_id=found.re_review_id,
    )


def re_review_out(r: ItemReReview) -> ReReviewOut:
    return ReReviewOut(
        id=r.id,
        service_item_id=r.service_item_id,
        vendor_id=r.vendor_id,
        region_code=r.region_code,
        term_id=r.term_id,
        satisfied=r.satisfied,
        ratings=r.ratings,
        share=r.satisfied / r.ratings,
        threshold_percent=r.threshold_percent,
        state=r.state,
        opened_at=r.opened_at,
        closed_at=r.closed_at,
        close_reason=r.close_reason,
    )


class OrderRatingController(Controller):
    path = "/api/v1/orders/{order_id:uuid}"
    tags = ["ratings"]

    @post("/rating", status_code=201, **access(Role.SCHOOL, errors=(404, 409, 422)))
    async def rate(
        self, db: DB, actor: CurrentActor, order_id: FromPath[UUID], data: JSONBody[SchoolRating]
    ) -> RatingOut:
        """The school rates its accepted order, once, from two weeks before the term's
        last day; the answer carries the item's satisfaction in the region this term."""
        found = await services.rate_as_school(db, actor, order_id, data.satisfied)
        return RatingOut(
            order_id=found.order_id,
            rater=found.rater,
            satisfied=found.satisfied,
            satisfaction=_satisfaction(found.satisfaction),
        )

    @post("/rating-codes", status_code=201, **access(Role.SCHOOL, errors=(404, 409, 422)))
    async def codes(
        self, db: DB, keyring: Keys, actor: CurrentActor, order_id: FromPath[UUID], data: JSONBody[CodeRequest]
    ) -> CodesOut:
        """One-time rating codes for pupils and parents, shown once (stored only hashed)."""
        return CodesOut(order_id=order_id, codes=await services.issue_codes(db, keyring, actor, order_id, data.count))


class PublicRatingController(Controller):
    path = "/api/v1/public/ratings"
    tags = ["public"]

    @post("/", status_code=201, **public(errors=(404, 409, 422)))
    async def rate(self, db: DB, keyring: Keys, data: JSONBody[PublicRating]) -> PublicRatingOut:
        """A pupil's or parent's rating with a one-time code: anonymous, counted once."""
        await services.rate_with_code(db, keyring, data.code, data.satisfied)
        return PublicRatingOut(accepted=True)


class ReReviewController(Controller):
    path = "/api/v1"
    tags = ["ratings"]

    @get("/regions/{region_code:str}/re-reviews", **access(*STAFF, errors=(404, 422)))
    async def list_re_reviews(
        self, db: DB, actor: CurrentActor, region_code: PathText, status: QueryText = "open"
    ) -> ReReviewList:
        """Items whose term satisfaction fell below the region's threshold (default: open ones)."""
        state = None if status == "all" else status
        return ReReviewList(
            items=[re_review_out(r) for r in await services.list_re_reviews(db, actor, region_code, state=state)]
        )

    @post("/re-reviews/{review_id:uuid}/close", status_code=200, **access(Role.REVIEWER, errors=(404, 409, 422)))
    async def close(
        self, db: DB, actor: CurrentActor, review_id: FromPath[UUID], data: JSONBody[ReReviewClose]
    ) -> ReReviewOut:
        """Close a re-review with a reason, after acting on the whitelist as needed."""
        return re_review_out(await services.close_re_review(db, actor, review_id, data.reason))
