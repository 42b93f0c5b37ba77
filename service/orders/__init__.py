"""Orders (点单): a region's terms, and schools' orders of whitelisted service items,
each with a standing derived when read (in force, at risk, blocked)."""
