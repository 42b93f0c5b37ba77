"""Vendors: third-party institutions that want to serve in schools."""
