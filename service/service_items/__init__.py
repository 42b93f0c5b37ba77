"""Service items (服务项目): a vendor's catalogue of activities it offers to schools."""

from service.service_items.models import CATEGORIES, FEE_UNITS, GRADE_BANDS, ServiceItem
from service.service_items.services import (
    ServiceItemInput,
    create_service_item,
    get_service_item,
    items_by_ids,
    list_service_items,
)

__all__ = [
    "CATEGORIES",
    "create_service_item",
    "FEE_UNITS",
    "get_service_item",
    "GRADE_BANDS",
    "items_by_ids",
    "list_service_items",
    "ServiceItem",
    "ServiceItemInput",
]
