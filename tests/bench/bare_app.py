"""The fixed reference of every HTTP benchmark: a bare Litestar app with one JSON route.

    python tests/bench/bare_app.py --port 8001

It is served by the same function as `schoolgate serve` (service/serving.py: same server,
event loop, HTTP parser and flags), so a figure divided by this app's requests/s measures
what SchoolGate adds on top of the framework and the server, and nothing else. It must
stay bare: no middleware, guards, hooks, dependencies or logging.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from litestar import Litestar, get

ROOT = Path(__file__).resolve().parents[2]


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[healthz], debug=False, logging_config=None, openapi_config=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--stack",
        choices=["shipped", "uvicorn-plain", "uvicorn-uvloop"],
        default="shipped",
        help="shipped: service/serving.py (the reference); the others only to compare stacks "
        "(they need `pip install uvicorn httptools`)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    target = "tests.bench.bare_app:create_app"
    if args.stack == "shipped":
        from service.serving import serve

        serve(target, host=args.host, port=args.port, workers=args.workers)
    else:  # uvicorn, with its pure-Python defaults (asyncio, h11) or uvloop + httptools
        import uvicorn

        plain = args.stack == "uvicorn-plain"
        uvicorn.run(
            target,
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="asyncio" if plain else "uvloop",
            http="h11" if plain else "httptools",
            log_config=None,
            access_log=False,
        )


if __name__ == "__main__":
    main()
