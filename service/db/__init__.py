"""Persistence plumbing: engine and transactions, the embedded server, migrations."""
