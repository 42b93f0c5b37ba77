"""Vendors: third-party institutions that want to serve in schools."""

from service.vendors.models import Vendor
from service.vendors.services import (
    VendorInput,
    can_see_vendor,
    get_vendor,
    list_vendors,
    load_vendor_record,
    load_visible_vendor,
    own_vendor,
    register_vendor,
    vendor_by_credit_code,
    vendor_ids_in_regions,
    vendors_by_ids,
)

__all__ = [
    "can_see_vendor",
    "get_vendor",
    "list_vendors",
    "load_vendor_record",
    "load_visible_vendor",
    "own_vendor",
    "register_vendor",
    "Vendor",
    "vendor_by_credit_code",
    "vendor_ids_in_regions",
    "VendorInput",
    "vendors_by_ids",
]
