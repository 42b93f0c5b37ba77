"""Numbers people cite: one counter per series, region and China year."""

from service.numbering.counters import SERIES, next_number

__all__ = ["SERIES", "next_number"]
