"""The ``integration-hub`` CLI as a data engineer uses it: exit codes, one-line errors, JSON listings,
secrets only from stdin / environment / prompt, and the activity log filters."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from integration_hub.cli import app

runner = CliRunner()


@pytest.fixture()
def cli(hub_env: dict[str, str], fake_connectors):
    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), input=input, env={**hub_env, "USER": "tester", **(env or {})})

    return invoke


def _connect_uyumsoft(cli, company: str = "acme", password: str = "GOOD-secret-pw"):
    return cli(
        "connect",
        "uyumsoft",
        "--company",
        company,
        "--username",
        "demo",
        "--password-stdin",
        "--start-date",
        "2024-01-01",
        input=password + "\n",
    )


def test_connect_pause_disconnect_reconnect_via_cli(cli) -> None:
    result = _connect_uyumsoft(cli)
    assert result.exit_code == 0, result.output
    assert "acme/uyumsoft: connected" in result.stdout
    assert cli("pause", "uyumsoft", "-c", "acme").exit_code == 0
    assert cli("resume", "uyumsoft", "-c", "acme").exit_code == 0
    assert cli("disconnect", "uyumsoft", "-c", "acme").exit_code == 0
    reconnect = cli("connect", "uyumsoft", "-c", "acme")
    assert reconnect.exit_code == 0, reconnect.output
    listing = json.loads(cli("connections", "--json").stdout)
    assert [(c["company"], c["integration"], c["state"], c["stored_secrets"]) for c in listing] == [
        ("acme", "uyumsoft", "connected", ["password"])
    ]
    log = json.loads(cli("log", "--json", "--integration", "uyumsoft").stdout)
    assert [e["action"] for e in reversed(log)] == [
        "Test Connection",
        "Connect",
        "Pause",
        "Resume",
        "Disconnect",
        "Test Connection",
        "Connect",
    ]
    assert {e["performed_by"] for e in log} == {"tester"}


def test_failed_test_exits_1_with_one_line(cli) -> None:
    result = _connect_uyumsoft(cli, password="wrong")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: Test Connection failed, nothing was changed")
    assert json.loads(cli("connections", "--json").stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["connect", "sap", "-c", "acme", "--skip-test"], "unknown integration 'sap'"),
        (["connect", "uyumsoft", "-c", "acme", "--username", "demo", "--skip-test"], "password: is required"),
        (["connect", "uyumsoft", "-c", "a|b", "--skip-test"], "breaks Dagster partition keys"),
        (
            ["connect", "karbon", "-c", "acme", "--set", "requests_per_minute=fast", "--skip-test"],
            "requests_per_minute: must be a whole number",
        ),
        (["connect", "uyumsoft", "-c", "acme", "--start-date", "2099-01-01", "--skip-test"], "is in the future"),
        (["connect", "uyumsoft", "-c", "acme", "--set", "password=oops"], "cannot be given on the command line"),
        (["connect", "uyumsoft", "-c", "acme", "--vkn", "1234567890"], "uyumsoft has no field 'vkn'"),
        (["connect", "uyumsoft", "-c", "acme", "--set", "colour"], "--set expects FIELD=VALUE"),
        (["connect", "uyumsoft", "-c", "acme", "--secret-env", "password=NOT_SET_ANYWHERE"], "is not set or empty"),
        (["pause", "uyumsoft", "-c", "acme"], "acme has no uyumsoft connection"),
        (["log", "--action", "explode"], "unknown action 'explode'"),
        (["log", "--from", "2024-02-30"], "--from must be a date"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert json.loads(cli("connections", "--json").stdout) == []
    assert json.loads(cli("log", "--json").stdout) == []


def test_wrong_key_file_is_a_clear_error(cli, hub_env) -> None:
    assert _connect_uyumsoft(cli).exit_code == 0
    assert cli("disconnect", "uyumsoft", "-c", "acme").exit_code == 0
    from pathlib import Path

    from cryptography.fernet import Fernet

    Path(hub_env["HUB_HOME"], "secret.key").write_text(Fernet.generate_key().decode() + "\n")
    result = cli("connect", "uyumsoft", "-c", "acme")
    assert result.exit_code == 2
    assert "cannot be decrypted" in result.stderr
    assert json.loads(cli("connections", "--json").stdout)[0]["state"] == "disconnected"
    Path(hub_env["HUB_HOME"], "secret.key").write_text("not-a-key\n")
    result = cli("connections")
    assert result.exit_code == 2
    assert "not a valid Fernet key" in result.stderr


def test_secret_from_environment_variable_and_edit_keeps_blank_secret(cli) -> None:
    result = cli(
        "connect",
        "karbon",
        "-c",
        "acme",
        "--application-id",
        "550e8400-e29b-41d4-a716-446655440000",
        "--secret-env",
        "access_key=KARBON_KEY",
        "--start-date",
        "2024-06-01",
        env={"KARBON_KEY": "GOODeyJ.a.b"},
    )
    assert result.exit_code == 2 and "access_key: must be the account's Access Key" in result.stderr
    result = cli(
        "connect",
        "karbon",
        "-c",
        "acme",
        "--application-id",
        "550e8400-e29b-41d4-a716-446655440000",
        "--secret-env",
        "access_key=KARBON_KEY",
        "--start-date",
        "2024-06-01",
        "--skip-test",
        env={"KARBON_KEY": "eyJhbGciOiJIUzI1NiJ9.eyJ0IjoxfQ.sig"},
    )
    assert result.exit_code == 0, result.output
    edit = cli("edit", "karbon", "-c", "acme", "--set", "requests_per_minute=60", "--skip-test")
    assert edit.exit_code == 0, edit.output
    shown = json.loads(cli("connections", "--json").stdout)[0]
    assert shown["settings"]["requests_per_minute"] == 60
    assert shown["stored_secrets"] == ["access_key"]


def test_catalog_json_and_hidden_reasons(cli) -> None:
    listed = {e["id"]: e for e in json.loads(cli("catalog", "--json").stdout)}
    assert "xero" not in listed and "uyumsoft" in listed
    password = next(f for f in listed["uyumsoft"]["fields"] if f["name"] == "password")
    assert password["secret"] and password["required"]
    everything = {e["id"]: e for e in json.loads(cli("catalog", "--all", "--json").stdout)}
    assert "XERO_CLIENT_ID" in everything["xero"]["hidden_because"]
    community = json.loads(cli("catalog", "--json", env={"HUB_EDITION": "community"}).stdout)
    assert sorted(e["id"] for e in community) == ["email", "exchange_rates"]
    table = cli("catalog", "--all")
    assert table.exit_code == 0 and "OAuth client is not configured" in table.stdout
    roles = {e["id"]: e["role"] for e in everything.values()}
    assert [roles[i] for i in ("edm", "karbon", "slack", "email")] == ["collects", "collects", "alerts", "alerts"]
    assert (roles["paperless_parts"], roles["jira"]) == ("not built", "not built")  # linear is faked as collecting


def test_log_filters(cli) -> None:
    assert _connect_uyumsoft(cli).exit_code == 0
    assert _connect_uyumsoft(cli, company="globex", password="nope").exit_code == 1
    assert cli("pause", "uyumsoft", "-c", "acme", "--as", "ops-bot").exit_code == 0
    errors = json.loads(cli("log", "--json", "--status", "error").stdout)
    assert {(e["action"], e["company"]) for e in errors} == {("Test Connection", "globex"), ("Connect", "globex")}
    paused = json.loads(cli("log", "--json", "--action", "pause").stdout)
    assert [(e["company"], e["performed_by"]) for e in paused] == [("acme", "ops-bot")]
    by_bot = json.loads(cli("log", "--json", "--by", "ops-bot").stdout)
    assert len(by_bot) == 1
    assert json.loads(cli("log", "--json", "--from", "2000-01-01", "--to", "2000-12-31").stdout) == []
    assert len(json.loads(cli("log", "--json", "--company", "acme", "--provider", "uyumsoft").stdout)) == 3


def test_overview_counts_connections(cli) -> None:
    assert _connect_uyumsoft(cli).exit_code == 0
    assert _connect_uyumsoft(cli, company="globex").exit_code == 0
    assert cli("pause", "uyumsoft", "-c", "globex").exit_code == 0
    data = json.loads(cli("overview", "--json").stdout)
    assert data["connected_integrations"] == 1
    assert data["active_connections"] == 1
    uyumsoft = next(i for i in data["integrations"] if i["id"] == "uyumsoft")
    assert (uyumsoft["connected"], uyumsoft["paused"], uyumsoft["rows_collected"]) == (1, 1, 0)


def test_rotate_key_via_cli(cli) -> None:
    assert _connect_uyumsoft(cli).exit_code == 0
    before = json.loads(cli("connections", "--json").stdout)[0]
    result = cli("rotate-key", "--as", "key-admin")
    assert result.exit_code == 0 and "re-encrypted 1 credential set(s)" in result.stdout
    after = json.loads(cli("connections", "--json").stdout)[0]
    # Re-encrypting is not an edit of the connection: who last changed it, and when, stay as they were.
    assert (after["updated_by"], after["updated_at"]) == ("tester", before["updated_at"])
    assert cli("test", "uyumsoft", "-c", "acme").exit_code == 0


def test_listings_that_match_nothing_say_so(cli) -> None:
    assert cli("log", "--by", "nobody").stdout.strip() == "no entries match"
    assert cli("connections", "--company", "nobody").stdout.strip() == "no connections match"


def test_version_and_simulate_help(cli) -> None:
    version = cli("--version")
    assert version.exit_code == 0 and version.stdout.strip() == "integration-hub 0.1.0"
    helped = cli("simulate", "--help")
    assert helped.exit_code == 0
    assert "karbon" in helped.stdout and "uyumsoft" in helped.stdout and "NAME --help" in helped.stdout
