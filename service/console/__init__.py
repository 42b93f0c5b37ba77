"""The web console: server-rendered pages over the same domain front doors as the API."""
