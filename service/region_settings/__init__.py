"""Per-region settings with inheritance from the parent region (county → city → province → defaults)."""
