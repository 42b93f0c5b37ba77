"""The school lookup API: vendor lookups (people later), signed receipts, rate limiting."""
