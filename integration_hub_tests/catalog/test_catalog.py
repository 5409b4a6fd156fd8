"""The catalog: the definitions a deployment offers, their fields, and how settings are validated."""

from __future__ import annotations

from datetime import date

import pytest

from integration_hub.catalog import ConnectionStyle, all_definitions, catalog_for, get_definition
from integration_hub.settings import HubSettings

TODAY = date(2026, 11, 22)
ERP = ("edm", "qnb_esolutions", "crs_soft", "isnet", "uyumsoft")


def _settings(**env: str) -> HubSettings:
    return HubSettings.from_env({"HUB_HOME": "/tmp/unused", **env})


def test_catalog_holds_the_erp_integrators_karbon_and_carbons_set() -> None:
    ids = {d.id for d in all_definitions()}
    assert ids == {
        *ERP,
        "karbon",
        "email",
        "exchange_rates",
        "linear",
        "paperless_parts",
        "xero",
        "jira",
        "onshape",
        "slack",
    }


def test_secrets_are_declared_on_fields() -> None:
    assert get_definition("uyumsoft").secret_fields == ("password",)
    assert get_definition("karbon").secret_fields == ("access_key", "webhook_signing_key")
    assert get_definition("paperless_parts").secret_fields == ("api_key", "webhook_signing_secret")
    assert set(get_definition("email").secret_fields) == {"api_key", "password"}
    # İşNet has no password: the company's tax number is its identity.
    isnet = get_definition("isnet")
    assert isnet.secret_fields == ()
    assert isnet.field("vkn").required


def test_every_collecting_integration_has_start_date_environment_and_base_url() -> None:
    for integration_id in ERP:
        names = get_definition(integration_id).field_names
        assert {"start_date", "environment", "base_url"} <= set(names), integration_id
        assert get_definition(integration_id).style is ConnectionStyle.CREDENTIALS
    karbon = get_definition("karbon")
    assert karbon.style is ConnectionStyle.API_KEY
    assert karbon.field("base_url").default == "https://api.karbonhq.com"
    assert not karbon.field("application_id").secret


def test_enterprise_edition_offers_everything_but_unconfigured_oauth() -> None:
    available = {e.definition.id for e in catalog_for(_settings()) if e.availability.available}
    assert available == {*ERP, "karbon", "email", "exchange_rates", "linear", "paperless_parts", "slack"}


def test_community_edition_offers_only_email_and_exchange_rates() -> None:
    entries = {e.definition.id: e.availability for e in catalog_for(_settings(HUB_EDITION="community"))}
    assert {k for k, v in entries.items() if v.available} == {"email", "exchange_rates"}
    assert "enterprise edition" in entries["uyumsoft"].reason


def test_oauth_integration_listed_once_its_client_is_configured() -> None:
    entries = {e.definition.id: e.availability for e in catalog_for(_settings())}
    assert not entries["xero"].available
    assert "XERO_CLIENT_ID" in entries["xero"].reason
    configured = {
        e.definition.id: e.availability
        for e in catalog_for(
            _settings(XERO_CLIENT_ID="id", XERO_CLIENT_SECRET="s", SLACK_CLIENT_ID="id", SLACK_CLIENT_SECRET="s")
        )
    }
    assert configured["xero"].available
    assert configured["slack"].available
    assert not configured["jira"].available


def test_slack_hidden_in_a_controlled_environment_even_when_configured() -> None:
    entries = {
        e.definition.id: e.availability
        for e in catalog_for(
            _settings(SLACK_CLIENT_ID="id", SLACK_CLIENT_SECRET="s", HUB_CONTROLLED_ENVIRONMENT="true")
        )
    }
    assert not entries["slack"].available
    assert "ITAR" in entries["slack"].reason


@pytest.mark.parametrize(
    ("integration", "values", "field", "reason"),
    [
        ("uyumsoft", {"start_date": "2024-13-01"}, "start_date", "YYYY-MM-DD"),
        ("uyumsoft", {"start_date": "2027-01-01"}, "start_date", "in the future"),
        ("uyumsoft", {"start_date": "1999-12-31"}, "start_date", "on or after 2000-01-01"),
        ("uyumsoft", {"environment": "staging"}, "environment", "one of test, production"),
        ("uyumsoft", {"base_url": "ftp://x"}, "base_url", "http(s) URL"),
        ("uyumsoft", {"base_url": "http://efatura.example.com"}, "base_url", "must start with https://"),
        ("karbon", {"base_url": "http://api.karbonhq.com"}, "base_url", "plain http:// only to 127.0.0.1"),
        ("karbon", {"requests_per_minute": "fast"}, "requests_per_minute", "whole number"),
        ("karbon", {"requests_per_minute": "0"}, "requests_per_minute", "at least 1"),
        ("karbon", {"application_id": "not-a-guid"}, "application_id", "GUID"),
        ("karbon", {"access_key": "plain"}, "access_key", "JWT"),
        ("isnet", {"vkn": "12345"}, "vkn", "10-digit VKN"),
        ("edm", {"requests_per_minute": "601"}, "requests_per_minute", "at most 600"),
        ("qnb_esolutions", {"download_batch": "101"}, "download_batch", "at most 100"),
        ("uyumsoft", {"auth_style": "basic"}, "auth_style", "one of ws_security, user_info"),
        ("linear", {"api_key": "sk_123"}, "api_key", "lin_api_"),
        ("email", {"provider": "smtp", "port": "x"}, "port", "whole number"),
        ("uyumsoft", {"colour": "red"}, "colour", "is not a field"),
    ],
)
def test_invalid_values_name_the_field_and_reason(integration: str, values: dict, field: str, reason: str) -> None:
    _, errors = get_definition(integration).validate(values, complete=False, today=TODAY)
    assert [e.field for e in errors] == [field]
    assert reason in errors[0].reason


def test_complete_validation_requires_every_required_field() -> None:
    _, errors = get_definition("uyumsoft").validate({"username": "u"}, complete=True, today=TODAY)
    assert sorted(e.field for e in errors) == ["password", "start_date"]
    _, errors = get_definition("uyumsoft").validate(
        {"username": "u"}, complete=True, today=TODAY, present_secrets=frozenset({"password"})
    )
    assert [e.field for e in errors] == ["start_date"]


def test_email_requires_the_fields_of_the_chosen_provider_only() -> None:
    email = get_definition("email")
    _, errors = email.validate({"provider": "smtp", "from_email": "a@b.co"}, complete=True, today=TODAY)
    assert sorted(e.field for e in errors) == ["host", "to_emails"]  # SMTP AUTH is optional
    cleaned, errors = email.validate(
        {"provider": "resend", "from_email": "a@b.co", "to_emails": "c@d.co", "api_key": "re_x", "host": "smtp.x"},
        complete=True,
        today=TODAY,
    )
    assert errors == []
    assert "host" not in cleaned and "port" not in cleaned


def test_defaults_fill_in_and_values_are_coerced() -> None:
    cleaned, errors = get_definition("karbon").validate(
        {"application_id": "550e8400-e29b-41d4-a716-446655440000", "start_date": " 2024-01-01 "},
        complete=False,
        today=TODAY,
    )
    assert errors == []
    assert cleaned["requests_per_minute"] == 120
    assert cleaned["base_url"] == "https://api.karbonhq.com"
    assert cleaned["start_date"] == "2024-01-01"


def test_url_fields_take_https_anywhere_and_plain_http_only_on_loopback() -> None:
    for url in ("https://efatura.example.com/x", "http://127.0.0.1:8403", "http://localhost:9", "http://[::1]:9"):
        cleaned, errors = get_definition("edm").validate({"base_url": url + "/"}, complete=False, today=TODAY)
        assert errors == [] and cleaned["base_url"] == url
