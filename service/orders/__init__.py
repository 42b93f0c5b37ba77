"""Orders (点单): a region's terms, and schools' orders of whitelisted service items,
each with a standing derived when read (in force, at risk, blocked)."""

from service.orders.models import Term
from service.orders.services import (
    OrderedSlot, OrderInput, OrderView, accepted_orders, open_orders_in_regions, place_order,
    transition_order,
)
from service.orders.standing import AT_RISK, BLOCKED, IN_FORCE
from service.orders.terms import TermInput, create_term, one_month_after, term_for_school, terms_for_region

__all__ = [
    "accepted_orders", "AT_RISK", "BLOCKED", "create_term", "IN_FORCE", "one_month_after",
    "open_orders_in_regions", "OrderedSlot", "OrderInput", "OrderView", "place_order", "Term",
    "term_for_school", "TermInput", "terms_for_region", "transition_order",
]
