"""Webhook tests: the orders world, an allow-list that admits a local receiver, and
one real HTTP receiver per test."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from service.config import Settings
from service.orders import order_standings
from service.webhooks import jobs
from service.webhooks.delivery import new_client
from service.webhooks.fanout import fanout_round
from tests.orders.conftest import OrdersWorld
from tests.webhooks.receiver import Receiver

LOCAL = dict(
    webhook_allowed_hosts=("127.0.0.1", "10.1.2.3", "hooks.example.cn"),
    webhook_allowed_networks=("127.0.0.0/8",),
    webhook_retry_base=0.001,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=None, data_dir=tmp_path / "data", log_format="json", **LOCAL)


@pytest.fixture
def ow(client, accounts, db) -> OrdersWorld:
    return OrdersWorld(client, accounts, db)


@pytest.fixture
async def ready(ow):
    """A whitelisted vendor (two items in 360104), one cleared person, a current term, a school."""
    vendor, entries = await ow.approved()
    person = await ow.cleared_person(vendor)
    return vendor, entries, person, await ow.term(), await ow.new_school()


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


class Dispatcher:
    """The app's own dispatcher steps, run on demand."""

    def __init__(self, app, settings: Settings) -> None:
        self.db, self.keyring = app.state.db, app.state.keyring
        self.policy = jobs.policy_from(settings)

    async def fan_out(self):
        return await fanout_round(self.db, order_standings)

    async def run(self) -> int:
        async with new_client(self.policy) as client:
            return await jobs.dispatch(self.db, self.keyring, order_standings, client, self.policy)

    def with_policy(self, **changes) -> Dispatcher:
        self.policy = replace(self.policy, **changes)
        return self


@pytest.fixture
def dispatcher(app, settings) -> Dispatcher:
    return Dispatcher(app, settings)
