"""Ratings (评价): schools and pupils or parents rate orders at term end; an item below the
region's satisfaction threshold goes to re-review by itself."""

from service.ratings.services import items_below_threshold

__all__ = ["items_below_threshold"]
