"""GB/T 2260 administrative divisions of Jiangxi: reference data and containment."""
