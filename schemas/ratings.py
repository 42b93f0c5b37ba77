"""Ratings of orders at term end, one-time codes, and items' re-reviews."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from schemas.inputs import Input, Int32
from schemas.text import MultilineText, Text


class SchoolRating(Input, forbid_unknown_fields=True):
    satisfied: bool


class CodeRequest(Input, forbid_unknown_fields=True):
    count: Int32  # at most the order's class size in all


class CodesOut(msgspec.Struct):
    order_id: UUID
    codes: list[str]  # shown once: hand one to each pupil or parent


class PublicRating(Input, forbid_unknown_fields=True):
    code: Text
    satisfied: bool


class SatisfactionOut(msgspec.Struct):
    satisfied: int
    ratings: int
    share: float | None
    threshold_percent: int
    re_review_id: UUID | None


class RatingOut(msgspec.Struct):
    order_id: UUID
    rater: str  # school | public
    satisfied: bool
    satisfaction: SatisfactionOut | None  # the item's in the region and term; None for the public


class PublicRatingOut(msgspec.Struct):
    accepted: bool


class ReReviewOut(msgspec.Struct):
    id: UUID
    service_item_id: UUID
    vendor_id: UUID
    region_code: str
    term_id: UUID
    satisfied: int
    ratings: int
    share: float
    threshold_percent: int
    state: str  # open | closed
    opened_at: datetime
    closed_at: datetime | None
    close_reason: str | None


class ReReviewList(msgspec.Struct):
    items: list[ReReviewOut]


class ReReviewClose(Input, forbid_unknown_fields=True):
    reason: MultilineText
