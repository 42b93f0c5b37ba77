"""Sending deliveries: at least once, in order per webhook, with retries and backoff.

A round claims the head of each webhook's queue (its oldest pending delivery) when it is
due, locking the webhook row (SKIP LOCKED: several workers share the work, one webhook
is only ever sent by one at a time, so a later delivery never overtakes an earlier one).
It POSTs them concurrently, then records each outcome in the same transaction; if the
worker dies mid-round the transaction rolls back and the deliveries go again (the
receiver sees the same delivery id, and deduplicates by it).

A failed attempt waits `retry_base × 2^(attempts-1)`, at most an hour; after
`max_attempts` the delivery is `failed` and the queue moves on (it stays in the log).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import httpx
from sqlalchemy import text

from service.db import Database
from service.security import Keyring
from service.timeutil import utcnow
from service.webhooks import addresses, signing
from service.webhooks.services import decrypt_secret

MAX_BACKOFF = 3600.0
USER_AGENT = "SchoolGate-Webhooks/1"

_HEADS = text("""
SELECT d.id, d.body, d.attempts, w.url, w.secret_ciphertext
FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
WHERE d.status = 'pending' AND d.next_attempt_at <= :now AND w.active
  AND d.seq = (SELECT min(h.seq) FROM webhook_deliveries h WHERE h.webhook_id = d.webhook_id AND h.status = 'pending')
ORDER BY d.next_attempt_at, d.seq
LIMIT :n
FOR UPDATE OF w SKIP LOCKED
""")

_RECORD = text("""
UPDATE webhook_deliveries SET status = :status, attempts = attempts + 1, last_attempt_at = :at,
  last_status_code = :code, last_error = :error, next_attempt_at = :next, delivered_at = :delivered
WHERE id = :id
""")


@dataclass(frozen=True)
class DeliveryPolicy:
    addresses: addresses.AddressPolicy
    timeout: float = 5.0
    retry_base: float = 10.0
    max_attempts: int = 15
    concurrency: int = 50


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None = None
    error: str | None = None


def backoff(attempts: int, base: float) -> float:
    """Seconds before the next attempt, after `attempts` failed ones."""
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


async def post(
    client: httpx.AsyncClient,
    policy: DeliveryPolicy,
    url: str,
    secret: str,
    delivery_id: str,
    body: bytes,
    resolve: addresses.Resolver = addresses.system_resolver,
) -> Outcome:
    """One attempt: check the address now, connect to the checked address, sign, POST."""
    try:
        target = await addresses.check(url, policy.addresses, resolve)
    except addresses.AddressRefused as refused:
        return Outcome(False, error=refused.code)
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.signed_headers(secret, delivery_id, int(time.time()), body),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        response = await client.post(
            target.pinned_url, content=body, headers=headers, extensions=extensions, timeout=policy.timeout
        )
    except httpx.TimeoutException:
        return Outcome(False, error="timeout")
    except httpx.HTTPError as error:
        return Outcome(False, error="connect_error" if isinstance(error, httpx.ConnectError) else "http_error")
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code)
    return Outcome(False, response.status_code, f"http_{response.status_code}")


@dataclass
class SendResult:
    attempted: int = 0
    delivered: int = 0


def new_client(policy: DeliveryPolicy) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=policy.timeout,
        limits=httpx.Limits(max_connections=policy.concurrency, max_keepalive_connections=policy.concurrency),
    )


async def deliver_round(
    db: Database,
    keyring: Keyring,
    client: httpx.AsyncClient,
    policy: DeliveryPolicy,
    *,
    now: datetime | None = None,
    limit: int = 200,
    resolve: addresses.Resolver = addresses.system_resolver,
) -> SendResult:
    """Send the due head of up to `limit` webhooks' queues; record every outcome."""
    result = SendResult()
    gate = asyncio.Semaphore(policy.concurrency)
    async with db.transaction() as session:
        now = now or utcnow()
        heads = (await (await session.connection()).execute(_HEADS, {"now": now, "n": limit})).all()
        if not heads:
            return result

        async def attempt(delivery_id: UUID, body: str, url: str, ciphertext: bytes) -> Outcome:
            async with gate:
                return await post(
                    client, policy, url, decrypt_secret(keyring, ciphertext), str(delivery_id), body.encode(), resolve
                )

        outcomes = await asyncio.gather(*(attempt(h[0], h[1], h[3], h[4]) for h in heads))
        done = utcnow()
        rows = []
        for (delivery_id, _, attempts, _, _), outcome in zip(heads, outcomes):
            tried = attempts + 1
            status = "delivered" if outcome.delivered else ("failed" if tried >= policy.max_attempts else "pending")
            rows.append(
                {
                    "id": delivery_id,
                    "status": status,
                    "at": done,
                    "code": outcome.status_code,
                    "error": outcome.error,
                    "delivered": done if outcome.delivered else None,
                    "next": done + timedelta(seconds=0 if outcome.delivered else backoff(tried, policy.retry_base)),
                }
            )
            result.delivered += outcome.delivered
        await (await session.connection()).execute(_RECORD, rows)
        result.attempted = len(heads)
    return result
