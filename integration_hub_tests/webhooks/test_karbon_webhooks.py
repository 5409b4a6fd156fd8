"""Karbon webhooks end to end on both databases: the receiver verifies signatures over real HTTP and
stores each delivery once; the sensor turns notifications into targeted runs per company and day."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
import httpx
import pytest

from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG
from integration_hub.sensors.webhooks import KARBON_EVENT_STREAMS, make_webhook_sensor
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig
from integration_hub.simulators.server import running
from integration_hub.store import Store
from integration_hub.webhooks.karbon import create_app, signature_for
from integration_hub_tests.support.dagster_helpers import hub_resource

SIGNING_KEY = "hub-signing-key-0123456789"
GLOBEX_KEY = "globex-signing-key-9876543210"
KARBON = {
    "application_id": "550e8400-e29b-41d4-a716-446655440000",
    "access_key": "eyJhbGciOiJIUzI1NiJ9.eyJ0IjoxfQ.sig",
    "start_date": "2024-01-01",
}


def _connect(store: Store, company: str, **extra: str) -> None:
    ConnectionService(store, today=lambda: date(2026, 11, 22)).connect(
        company, "karbon", {**KARBON, **extra}, by="tester", skip_test=True
    )


def _event(key: str, resource: str = "Contact", when: str = "2024-08-01T21:54:36Z", action: str = "Updated") -> bytes:
    return json.dumps(
        {"ResourcePermaKey": key, "ResourceType": resource, "ActionType": action, "TimeStamp": when}
    ).encode()


@pytest.fixture()
def receiver(store: Store):
    _connect(store, "acme", webhook_signing_key=SIGNING_KEY)
    _connect(store, "globex", webhook_signing_key=GLOBEX_KEY)
    _connect(store, "initech")  # no signing key: every delivery is refused
    with running(create_app(store)) as base, httpx.Client(base_url=base) as client:
        yield client


def _post(client: httpx.Client, company: str, body: bytes, signature: str | None = None) -> httpx.Response:
    """POST a delivery; globex's are signed with its key unless a ``signature`` is given."""
    if signature is None and company == "globex":
        signature = signature_for(body, GLOBEX_KEY)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Signature"] = signature
    return client.post(f"/webhooks/karbon/{company}", content=body, headers=headers)


def test_signed_delivery_is_stored_once(receiver: httpx.Client, store: Store, hub_settings) -> None:
    body = _event("kCsVf7svWQw")
    first = _post(receiver, "acme", body, signature_for(body, SIGNING_KEY))
    assert first.status_code == 200 and first.json() == {"status": "stored"}
    again = _post(receiver, "acme", body, signature_for(body, SIGNING_KEY).upper())
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    events = hub_resource(hub_settings).inbox_after("karbon", 0)
    assert [(e.company, e.resource_type, e.resource_key, e.event_at.date()) for e in events] == [
        ("acme", "Contact", "kCsVf7svWQw", date(2024, 8, 1))
    ]


@pytest.mark.parametrize(
    ("company", "body", "signature", "status", "message"),
    [
        ("acme", _event("k1"), None, 401, "missing or invalid Signature"),
        ("acme", _event("k1"), "00" * 32, 401, "missing or invalid Signature"),
        ("acme", _event("k1"), signature_for(_event("k2"), SIGNING_KEY), 401, "missing or invalid Signature"),
        ("nobody", _event("k1"), None, 404, "unknown company"),
        ("Bad|Key", _event("k1"), None, 404, "unknown company"),
        ("globex", b"{not json", None, 400, "malformed webhook"),
        ("globex", json.dumps({"ResourceType": "Contact"}).encode(), None, 400, "missing ResourcePermaKey"),
        ("globex", _event("k1", when="yesterday"), None, 400, "not an ISO-8601"),
        ("globex", b"[" * 30_000 + b"]" * 30_000, None, 400, "malformed webhook: JSON nested too deeply"),
        ("globex", b"\xff\xfe{}", None, 400, "malformed webhook"),
        ("globex", b"{" + b" " * (70 * 1024) + b"}", None, 413, "body over"),
        ("initech", _event("k1"), None, 403, "no webhook_signing_key"),
        ("initech", _event("k1"), signature_for(_event("k1"), ""), 403, "no webhook_signing_key"),
    ],
)
def test_bad_deliveries_are_refused_and_store_nothing(
    receiver: httpx.Client, hub_settings, company: str, body: bytes, signature: str | None, status: int, message: str
) -> None:
    response = _post(receiver, company, body, signature)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert hub_resource(hub_settings).inbox_after("karbon", 0) == []


def test_each_company_is_verified_with_its_own_key(receiver: httpx.Client, hub_settings) -> None:
    body = _event("g1", "Work")
    assert _post(receiver, "acme", body, signature_for(body, GLOBEX_KEY)).status_code == 401
    assert _post(receiver, "globex", body).json() == {"status": "stored"}
    assert [e.company for e in hub_resource(hub_settings).inbox_after("karbon", 0)] == ["globex"]


def test_sensor_turns_notifications_into_targeted_day_runs(receiver: httpx.Client, store: Store, hub_settings) -> None:
    deliveries = [
        ("globex", _event("c1", "Contact", "2024-08-01T10:00:00Z")),
        ("globex", _event("w1", "Work", "2024-08-01T11:00:00Z")),
        ("globex", _event("c2", "Contact", "2024-07-30T09:00:00Z")),  # arrives after a newer one: harmless
        ("globex", _event("x1", "Mystery", "2024-08-01T12:00:00Z")),  # changes no collected stream
        ("globex", _event("c1", "Contact", "2024-08-01T10:00:00Z")),  # duplicate delivery
    ]
    for company, body in deliveries:
        assert _post(receiver, company, body).status_code == 200
    hub = hub_resource(hub_settings)
    sensor = make_webhook_sensor("karbon", KARBON_EVENT_STREAMS, CollectionConfig())
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("karbon_companies", ["globex"])
        with dg.build_sensor_context(instance=instance, cursor=None, resources={"hub": hub}) as context:
            result = sensor(context)
        runs = {
            (r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]): sorted(k.path[-1] for k in r.asset_selection)
            for r in result.run_requests
        }
        assert runs == {
            ("globex|2024-07-30", "globex|2024-07-30"): ["accounting", "contacts", "content_items"],
            ("globex|2024-08-01", "globex|2024-08-01"): ["accounting", "contacts", "content_items", "work"],
        }
        assert all(r.tags["hub/trigger"] == "webhook" for r in result.run_requests)
        ConnectionService(store).pause("globex", "karbon", by="tester")
        assert _post(receiver, "globex", _event("c9", "Contact", "2024-08-02T10:00:00Z")).status_code == 200
        with dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"hub": hub}) as context:
            paused = sensor(context)
        assert paused.run_requests == []  # a paused connection gets no runs
        with dg.build_sensor_context(instance=instance, cursor=paused.cursor, resources={"hub": hub}) as context:
            assert isinstance(sensor(context), dg.SkipReason)


def test_fleet_layout_collects_the_companies_of_a_day_together(receiver: httpx.Client, hub_settings) -> None:
    contact = _event("c1", "Contact", "2024-08-01T10:00:00Z")
    user = _event("u1", "User", "2024-08-02T10:00:00Z")
    assert _post(receiver, "globex", contact).status_code == 200
    assert _post(receiver, "acme", contact, signature_for(contact, SIGNING_KEY)).status_code == 200
    assert _post(receiver, "acme", user, signature_for(user, SIGNING_KEY)).status_code == 200
    sensor = make_webhook_sensor("karbon", KARBON_EVENT_STREAMS, CollectionConfig(partitioning="fleet"))
    hub = hub_resource(hub_settings)
    # No company partitions exist in the fleet layout.
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(instance=instance, cursor=None, resources={"hub": hub}) as context,
    ):
        result = sensor(context)
    runs = {
        tuple(sorted(k.path[-1] for k in r.asset_selection)): (
            r.tags[RANGE_START_TAG],
            r.tags[RANGE_END_TAG],
            r.run_config["resources"]["shard"]["config"]["companies"],
        )
        for r in result.run_requests
    }
    assert runs == {  # one run for both companies' contact changes of the day, one for acme's user change
        ("accounting", "contacts", "content_items"): ("2024-08-01", "2024-08-01", ["acme", "globex"]),
        ("tenant",): ("2024-08-02", "2024-08-02", ["acme"]),
    }
