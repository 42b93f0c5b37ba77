"""Request and response shapes of the public API, shared by the service, tests and clients."""
