"""Qualification documents: metadata in PostgreSQL, bytes in content-addressed storage."""
