"""GB/T 2260 administrative divisions of Jiangxi: reference data and containment."""

from service.regions.directory import RegionInfo, regions

__all__ = [
    "RegionInfo",
    "regions",
]
