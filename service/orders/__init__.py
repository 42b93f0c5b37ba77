"""Orders (点单): a region's terms, and schools' orders of whitelisted service items,
each with a standing derived when read (in force, at risk, blocked)."""

from service.orders.facts import OrderedSlot, OrderFacts, accepted_orders, order_facts
from service.orders.models import Term
from service.orders.open_orders import OrderStandingNow, open_orders_in_regions, order_standings
from service.orders.placing import OrderInput, place_order, placed_order, staff_for_order
from service.orders.standing import AT_RISK, BLOCKED, IN_FORCE
from service.orders.terms import (
    TermInput,
    create_term,
    list_terms,
    one_month_after,
    term_for_school,
    terms_for_region,
)
from service.orders.transitions import transition_order
from service.orders.views import OrderView, list_school_orders, list_vendor_orders

__all__ = [
    "accepted_orders",
    "AT_RISK",
    "BLOCKED",
    "create_term",
    "IN_FORCE",
    "list_school_orders",
    "list_terms",
    "list_vendor_orders",
    "one_month_after",
    "open_orders_in_regions",
    "order_facts",
    "order_standings",
    "OrderedSlot",
    "OrderFacts",
    "OrderInput",
    "OrderStandingNow",
    "OrderView",
    "place_order",
    "placed_order",
    "staff_for_order",
    "Term",
    "term_for_school",
    "TermInput",
    "terms_for_region",
    "transition_order",
]
