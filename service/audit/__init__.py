"""The audit trail: every change and every sensitive read, appended, never edited."""
