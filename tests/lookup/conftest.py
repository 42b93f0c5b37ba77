from tests.whitelist.conftest import wl  # noqa: F401  (the same world)
