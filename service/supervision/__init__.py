"""Supervision (§2(2), §2(4)): the bureau's view of a region, composed from the front
doors of orders, timetables, documents and vendors. It holds no rule of its own."""

from service.supervision.dashboard import region_dashboard

__all__ = [
    "region_dashboard",
]
