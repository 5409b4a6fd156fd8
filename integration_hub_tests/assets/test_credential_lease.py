"""A collection holds its credential's lease: it waits (bounded) for another run's, takes over a dead run's, and
gives it back whatever the outcome. In-process materializations on both databases with the fake connector."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from integration_hub.assets.factory import build_stream_asset
from integration_hub.assets.streams import streams_of
from integration_hub.resources.hub import HubResource
from integration_hub.settings import CollectionConfig, HubSettings
from integration_hub.store import Store, leases
from integration_hub.store import activity as activity_log
from integration_hub_tests.support import fake_connector
from integration_hub_tests.support.dagster_helpers import connect, hub_resource, materialize_range

JAN_1, JAN_3 = date(2024, 1, 1), date(2024, 1, 3)
KEY = {"integration_id": "uyumsoft", "company": "acme"}


@pytest.fixture()
def asset() -> dg.AssetsDefinition:
    return build_stream_asset(streams_of("uyumsoft")[0], CollectionConfig(max_retries=0, retry_delay_seconds=0))


@pytest.fixture()
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def _hub(settings: HubSettings, **lease: float) -> HubResource:
    return HubResource(hub_home=str(settings.home), database_url=settings.database_url, **lease)


def _hold(store: Store, run_id: str, *, expires_in: timedelta) -> None:
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        assert leases.acquire(conn, **KEY, run_id=run_id, ttl=expires_in, now=now) is None


def _holder(store: Store) -> leases.Lease | None:
    with store.engine.connect() as conn:
        return leases.holder_of(conn, **KEY)


def _collects() -> list[tuple[str, str]]:
    return [call for call in fake_connector.CALLS if call[0] == "collect"]


def test_a_live_lease_of_another_run_is_waited_for_then_the_run_fails_naming_it(
    store: Store, hub_settings: HubSettings, instance: dg.DagsterInstance, asset: dg.AssetsDefinition, fake_connectors
) -> None:
    connect(store)
    _hold(store, "sensor-run-1234", expires_in=timedelta(minutes=10))
    hub = _hub(hub_settings, lease_wait_seconds=1, lease_poll_seconds=0.2)
    result = materialize_range(asset, instance, hub, "acme", JAN_1, JAN_3, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    error = failure.step_failure_data.error  # type: ignore[union-attr]
    message = error.cause.message if error.cause else error.message  # the retry policy wraps the failure
    holder = _holder(store)
    assert holder is not None and holder.run_id == "sensor-run-1234"  # untouched
    until = f"{holder.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    assert f"credential uyumsoft.acme is in use by run sensor-run-1234 until {until}; waited 1s" in message
    assert _collects() == []  # the provider was never called
    with store.engine.connect() as conn:
        attempts = activity_log.query(conn, actions=["Sync Attempt"])
    assert [a.status for a in attempts] == ["Error"] and "not started" in attempts[0].details


def test_a_lease_left_by_a_killed_run_is_taken_over_once_it_expires(
    store: Store, hub_settings: HubSettings, instance: dg.DagsterInstance, asset: dg.AssetsDefinition, fake_connectors
) -> None:
    connect(store)
    _hold(store, "killed-run", expires_in=timedelta(seconds=-1))
    result = materialize_range(asset, instance, hub_resource(hub_settings), "acme", JAN_1, JAN_3)
    assert result.success and len(_collects()) == 1
    assert _holder(store) is None  # released at the end


def test_the_lease_is_released_after_a_failed_collection_too(
    store: Store, hub_settings: HubSettings, instance: dg.DagsterInstance, asset: dg.AssetsDefinition, fake_connectors
) -> None:
    connect(store)
    fake_connector.FAIL_ON.add(JAN_3)
    result = materialize_range(asset, instance, hub_resource(hub_settings), "acme", JAN_1, JAN_3, raise_on_error=False)
    assert not result.success and len(_collects()) == 1
    assert _holder(store) is None
