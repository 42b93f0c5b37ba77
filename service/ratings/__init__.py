"""Ratings (评价): schools and pupils or parents rate orders at term end; an item below the
region's satisfaction threshold goes to re-review by itself. The edges (API, console)
rate, issue codes, and list and close re-reviews through these."""

from service.ratings.services import (
    MAX_CODES_PER_CALL,
    RatingResult,
    close_re_review,
    issue_codes,
    items_below_threshold,
    list_re_reviews,
    rate_as_school,
    rate_with_code,
)
from service.ratings.views import RatingRow, ReReviewView, rating_window, re_review_views, school_rating_rows

__all__ = [
    "close_re_review",
    "issue_codes",
    "items_below_threshold",
    "list_re_reviews",
    "MAX_CODES_PER_CALL",
    "rate_as_school",
    "rate_with_code",
    "RatingResult",
    "RatingRow",
    "rating_window",
    "re_review_views",
    "ReReviewView",
    "school_rating_rows",
]
