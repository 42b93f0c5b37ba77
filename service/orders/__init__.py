"""Orders (点单): a region's terms, and schools' orders of whitelisted service items,
each with a standing derived when read (in force, at risk, blocked)."""

from service.orders.services import OrderFacts, OrderStandingNow, order_facts, order_standings

__all__ = ["OrderFacts", "OrderStandingNow", "order_facts", "order_standings"]
