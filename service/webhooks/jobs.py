"""The webhook dispatcher, on the one periodic runner: fan out the outbox and send what
is due every `webhook_interval` seconds; scan for time-driven standing changes every
`webhook_scan_interval`. Safe with several workers (see fanout.py and delivery.py)."""

from __future__ import annotations

import asyncio

from service.config import Settings
from service.db import Database
from service.periodic import run_periodic
from service.security import Keyring
from service.webhooks.addresses import AddressPolicy
from service.webhooks.delivery import DeliveryPolicy, deliver_round, new_client
from service.webhooks.fanout import StandingSource, fanout_round, scan_round

ROUNDS_PER_STEP = 50  # keep going while there is work, then yield to the interval


def address_policy(settings: Settings) -> AddressPolicy:
    """Where the admin lets webhooks go (registration checks a URL against it)."""
    return AddressPolicy.from_settings(settings.webhook_allowed_hosts, settings.webhook_allowed_networks)


def policy_from(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        address_policy(settings),
        timeout=settings.webhook_timeout,
        retry_base=settings.webhook_retry_base,
        max_attempts=settings.webhook_max_attempts,
    )


async def dispatch(db: Database, keyring: Keyring, source: StandingSource, client, policy: DeliveryPolicy) -> int:
    """Fan out and send until nothing is due (or the round limit); the deliveries made."""
    delivered = 0
    for _ in range(ROUNDS_PER_STEP):
        fanned = await fanout_round(db, source)
        sent = await deliver_round(db, keyring, client, policy)
        delivered += sent.delivered
        if not fanned.changes and not sent.attempted:
            break
    return delivered


async def run_forever(db: Database, keyring: Keyring, settings: Settings, source: StandingSource) -> None:
    policy = policy_from(settings)
    async with new_client(policy) as client:
        await asyncio.gather(
            run_periodic(
                "webhook_dispatch", lambda: dispatch(db, keyring, source, client, policy), settings.webhook_interval
            ),
            run_periodic("webhook_scan", lambda: scan_round(db, source), settings.webhook_scan_interval),
        )
