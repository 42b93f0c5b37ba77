"""Orders (点单): a region's terms, and schools' orders of whitelisted service items,
each with a standing derived when read (in force, at risk, blocked)."""

from service.orders.services import OrderStandingNow, order_standings

__all__ = ["OrderStandingNow", "order_standings"]
