"""Connection lifecycle rules, on SQLite and PostgreSQL: connect with a test, edit, pause, resume,
disconnect keeping credentials, clear credentials, drafts, and bad input that changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from integration_hub.service import (
    ConnectionService,
    NotFoundError,
    StateError,
    TestFailedError,
    UnavailableError,
    ValidationError,
)
from integration_hub.settings import HubSettings
from integration_hub.store import Store, schema
from integration_hub.store import activity as activity_log
from integration_hub.store.secrets import SecretKeyError

TODAY = date(2026, 11, 22)
UYUMSOFT = {"username": "demo", "password": "GOOD-pass-1", "start_date": "2024-01-01"}


@pytest.fixture()
def svc(store: Store, fake_connectors) -> ConnectionService:
    return ConnectionService(store, today=lambda: TODAY)


def _counts(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(schema.connections)).scalar_one(),
            conn.execute(select(func.count()).select_from(schema.activity_log)).scalar_one(),
        )


def _log(store: Store) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        return [(e.action, e.status) for e in activity_log.query(conn, newest_first=False)]


def test_connect_runs_the_test_then_stores_encrypted_credentials(svc: ConnectionService, fake_connectors) -> None:
    record = svc.connect("acme", "uyumsoft", UYUMSOFT, by="alice")
    assert record.state == "connected"
    assert record.start_date == date(2024, 1, 1)
    assert record.settings == {
        "username": "demo",
        "start_date": "2024-01-01",
        "environment": "production",
        "auth_style": "ws_security",  # catalog defaults are stored with the connection
        "requests_per_minute": 300,
    }
    assert record.secret_fields == ("password",)
    assert record.updated_by == "alice"
    assert ("test", "acme") in fake_connectors
    assert record.last_test_ok is True and record.last_test_at is not None  # the first connect's test is kept
    assert record.last_test_message == "authenticated as test account"
    assert svc.connector_config(record).secrets["password"] == "GOOD-pass-1"
    with svc.store.engine.connect() as conn:
        token = conn.execute(select(schema.connections.c.secrets)).scalar_one()
    assert "GOOD-pass-1" not in token
    assert _log(svc.store) == [("Test Connection", "Success"), ("Connect", "Success")]


def test_failed_test_refuses_and_changes_nothing_but_the_log(svc: ConnectionService) -> None:
    with pytest.raises(TestFailedError, match="rejected password"):
        svc.connect("acme", "uyumsoft", {**UYUMSOFT, "password": "bad-pass"}, by="alice")
    assert svc.list() == []
    assert _log(svc.store) == [("Test Connection", "Error"), ("Connect", "Error")]


def test_integration_without_connector_refuses_unless_skip_test(svc: ConnectionService) -> None:
    values = {"api_key": "k1", "webhook_signing_secret": "k2"}
    with pytest.raises(TestFailedError, match="'paperless_parts' is not built yet"):
        svc.connect("acme", "paperless_parts", values, by="a")
    assert svc.list() == []
    record = svc.connect("acme", "paperless_parts", values, by="a", skip_test=True)
    assert record.state == "connected"
    assert record.secret_fields == ("api_key", "webhook_signing_secret")


def test_pause_resume_disconnect_and_reconnect_without_credentials(svc: ConnectionService) -> None:
    svc.connect("acme", "uyumsoft", UYUMSOFT, by="alice")
    assert svc.pause("acme", "uyumsoft", by="alice").state == "paused"
    assert not svc.get("acme", "uyumsoft").collecting
    assert svc.resume("acme", "uyumsoft", by="bob").state == "connected"
    disconnected = svc.disconnect("acme", "uyumsoft", by="bob")
    assert disconnected.state == "disconnected"
    assert disconnected.secret_fields == ("password",)
    again = svc.connect("acme", "uyumsoft", {}, by="bob")
    assert again.state == "connected"
    assert svc.connector_config(again).secrets["password"] == "GOOD-pass-1"
    actions = [a for a, _ in _log(svc.store)]
    assert actions == ["Test Connection", "Connect", "Pause", "Resume", "Disconnect", "Test Connection", "Connect"]


@pytest.mark.parametrize(
    ("action", "state_setup", "message"),
    [
        ("pause", "disconnected", "needs connected"),
        ("resume", "connected", "needs paused"),
        ("disconnect", "disconnected", "needs connected or paused"),
        ("clear_credentials", "connected", "disconnect it before clearing"),
    ],
)
def test_actions_that_do_not_fit_the_state_change_nothing(
    svc: ConnectionService, action: str, state_setup: str, message: str
) -> None:
    svc.connect("acme", "uyumsoft", UYUMSOFT, by="alice")
    if state_setup == "disconnected":
        svc.disconnect("acme", "uyumsoft", by="alice")
    before = (svc.get("acme", "uyumsoft"), _counts(svc.store))
    with pytest.raises(StateError, match=message):
        getattr(svc, action)("acme", "uyumsoft", by="alice")
    assert (svc.get("acme", "uyumsoft"), _counts(svc.store)) == before


def test_clear_credentials_then_reconnect_asks_for_them(svc: ConnectionService) -> None:
    svc.connect("acme", "uyumsoft", UYUMSOFT, by="alice")
    svc.disconnect("acme", "uyumsoft", by="alice")
    cleared = svc.clear_credentials("acme", "uyumsoft", by="alice")
    assert cleared.secret_fields == () and not cleared.has_secrets
    with pytest.raises(ValidationError, match="password: is required"):
        svc.connect("acme", "uyumsoft", {}, by="alice")
    assert svc.connect("acme", "uyumsoft", {"password": "GOOD-new"}, by="alice").state == "connected"


def test_edit_keeps_a_blank_secret_and_retests_a_live_connection(svc: ConnectionService, fake_connectors) -> None:
    svc.connect("acme", "uyumsoft", UYUMSOFT, by="alice")
    fake_connectors.clear()
    edited = svc.edit("acme", "uyumsoft", {"start_date": "2024-03-01", "password": ""}, by="bob")
    assert edited.start_date == date(2024, 3, 1)
    assert svc.connector_config(edited).secrets["password"] == "GOOD-pass-1"
    assert fake_connectors == [("test", "acme")]
    with pytest.raises(TestFailedError):
        svc.edit("acme", "uyumsoft", {"password": "wrong"}, by="bob")
    assert svc.connector_config(svc.get("acme", "uyumsoft")).secrets["password"] == "GOOD-pass-1"
    changed = svc.edit("acme", "uyumsoft", {"password": "GOOD-pass-2"}, by="bob")
    assert svc.connector_config(changed).secrets["password"] == "GOOD-pass-2"
    with svc.store.engine.connect() as conn:
        edits = [e.details for e in activity_log.query(conn, actions=["Edit"], status="Success")]
    assert edits == ["password (secret) changed", "start_date: 2024-01-01 → 2024-03-01"]


def test_each_field_gets_one_reason_and_errors_name_the_command(svc: ConnectionService) -> None:
    with pytest.raises(ValidationError) as info:
        svc.connect("acme", "uyumsoft", {**UYUMSOFT, "start_date": "2024-13-01"}, by="alice")
    assert str(info.value) == "cannot connect uyumsoft: start_date: must be a date as YYYY-MM-DD"
    svc.connect("acme", "uyumsoft", UYUMSOFT, by="alice")
    with pytest.raises(ValidationError, match=r"^cannot edit uyumsoft: start_date: must be a date"):
        svc.edit("acme", "uyumsoft", {"start_date": "soon"}, by="alice")


def test_text_settings_have_a_length_limit_and_the_value_is_not_echoed(svc: ConnectionService) -> None:
    long_name = "u" * 100_000
    with pytest.raises(ValidationError) as info:
        svc.save_draft("acme", "uyumsoft", {"username": long_name}, by="alice")
    assert "username: is 100000 characters long; at most 256 are allowed" in str(info.value)
    assert long_name[:300] not in str(info.value)
    with pytest.raises(ValidationError, match="password: is 9000 characters long; at most 8192"):
        svc.connect("acme", "uyumsoft", {**UYUMSOFT, "password": "p" * 9000}, by="alice")
    assert svc.list() == []


def test_draft_may_be_incomplete_but_never_switches_on_incomplete(svc: ConnectionService) -> None:
    draft = svc.save_draft("acme", "uyumsoft", {"username": "demo"}, by="alice")
    assert draft.state == "draft"
    with pytest.raises(ValidationError) as info:
        svc.connect("acme", "uyumsoft", {}, by="alice")
    assert "password: is required" in str(info.value) and "start_date: is required" in str(info.value)
    assert svc.get("acme", "uyumsoft").state == "draft"
    with pytest.raises(ValidationError, match="start_date: must be a date"):
        svc.save_draft("acme", "uyumsoft", {"start_date": "yesterday"}, by="alice")
    connected = svc.connect("acme", "uyumsoft", {"password": "GOOD-x", "start_date": "2025-05-05"}, by="alice")
    assert connected.state == "connected" and connected.settings["username"] == "demo"


@pytest.mark.parametrize(
    ("company", "integration", "values", "error", "message"),
    [
        ("acme", "sap", UYUMSOFT, ValidationError, "unknown integration 'sap'"),
        (
            "acme",
            "uyumsoft",
            {"username": "demo", "start_date": "2024-01-01"},
            ValidationError,
            "password: is required",
        ),
        (
            "acme",
            "karbon",
            {"application_id": "x", "access_key": "eyJa.b.c", "start_date": "2024-01-01"},
            ValidationError,
            "application_id: must be the API application's GUID",
        ),
        ("acme|north", "uyumsoft", UYUMSOFT, ValidationError, "breaks Dagster partition keys"),
        ("Acme Corp", "uyumsoft", UYUMSOFT, ValidationError, "is not a slug"),
        ("acme", "uyumsoft", {**UYUMSOFT, "start_date": "2030-01-01"}, ValidationError, "is in the future"),
        (
            "acme",
            "karbon",
            {
                "application_id": "550e8400-e29b-41d4-a716-446655440000",
                "access_key": "eyJa.b.c",
                "start_date": "2024-01-01",
                "requests_per_minute": "lots",
            },
            ValidationError,
            "requests_per_minute: must be a whole number",
        ),
        ("acme", "xero", {}, UnavailableError, "OAuth client is not configured"),
    ],
)
def test_bad_input_gives_one_clear_line_and_changes_nothing(
    svc: ConnectionService, company: str, integration: str, values: dict, error: type, message: str
) -> None:
    before = _counts(svc.store)
    with pytest.raises(error) as info:
        svc.connect(company, integration, values, by="alice")
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert _counts(svc.store) == before


def test_missing_connection_is_reported(svc: ConnectionService) -> None:
    with pytest.raises(NotFoundError, match="acme has no uyumsoft connection"):
        svc.pause("acme", "uyumsoft", by="alice")


def test_wrong_key_fails_loudly_and_changes_nothing(svc: ConnectionService, hub_env: dict, tmp_path) -> None:
    svc.connect("acme", "uyumsoft", UYUMSOFT, by="alice")
    svc.disconnect("acme", "uyumsoft", by="alice")
    from cryptography.fernet import Fernet

    other = Store.open(HubSettings.from_env({**hub_env, "HUB_SECRET_KEY": Fernet.generate_key().decode()}))
    other_svc = ConnectionService(other, today=lambda: TODAY)
    before = (other_svc.get("acme", "uyumsoft"), _counts(other))
    with pytest.raises(SecretKeyError, match="cannot be decrypted") as info:
        other_svc.connect("acme", "uyumsoft", {}, by="alice")
    assert "\n" not in str(info.value)
    assert (other_svc.get("acme", "uyumsoft"), _counts(other)) == before
    other.dispose()


def test_rotate_key_reencrypts_and_retires_the_old_key(svc: ConnectionService, hub_settings: HubSettings) -> None:
    svc.connect("acme", "uyumsoft", UYUMSOFT, by="alice")
    svc.connect("globex", "uyumsoft", {**UYUMSOFT, "password": "GOOD-globex"}, by="alice")
    old_key_file = hub_settings.key_file.read_text()
    assert svc.rotate_key(by="alice") == 2
    assert hub_settings.key_file.read_text() != old_key_file
    assert oct(hub_settings.key_file.stat().st_mode & 0o777) == "0o600"
    fresh = ConnectionService(Store.open(hub_settings), today=lambda: TODAY)
    assert fresh.connector_config(fresh.get("globex", "uyumsoft")).secrets["password"] == "GOOD-globex"
    old_keys = [line for line in old_key_file.splitlines() if not line.startswith("#")]
    from integration_hub.store.secrets import SecretBox

    with svc.store.engine.connect() as conn:
        token = conn.execute(select(schema.connections.c.secrets).limit(1)).scalar_one()
    with pytest.raises(SecretKeyError):
        SecretBox(old_keys).decrypt(token)
    assert ("Rotate Key", "Success") in _log(svc.store)


def test_a_connect_that_loses_the_race_changes_nothing(svc: ConnectionService, monkeypatch) -> None:
    """Another connect commits between this one's first read and its transaction: refused, the winner's kept."""
    from integration_hub.store import connections as connection_rows

    svc.connect("acme", "uyumsoft", UYUMSOFT, by="winner")
    real_get = connection_rows.get
    monkeypatch.setattr(
        connection_rows, "get", lambda conn, c, i, for_update=False: real_get(conn, c, i) if for_update else None
    )
    with pytest.raises(StateError, match="already connected"):
        svc.connect("acme", "uyumsoft", {**UYUMSOFT, "password": "GOOD-loser"}, by="loser")
    monkeypatch.setattr(connection_rows, "get", real_get)
    kept = svc.get("acme", "uyumsoft")
    assert kept.state == "connected" and svc.connector_config(kept).secrets["password"] == "GOOD-pass-1"
    assert [(a, st) for a, st in _log(svc.store) if a == "Connect"] == [("Connect", "Success")]
