"""The Email definition: recipients, SMTP security and optional AUTH, Resend's URL, and stored older settings."""

from __future__ import annotations

from datetime import date

import pytest

from integration_hub.catalog import get_definition
from integration_hub.connectors.base import ConfigurationError, ConnectorConfig
from integration_hub.connectors.email import ResendChannel, SmtpChannel, build_email

TODAY = date(2026, 11, 1)
EMAIL = get_definition("email")
SMTP = {
    "provider": "smtp",
    "from_email": "hub@acme.example",
    "to_emails": "ops@acme.example",
    "host": "smtp.acme.example",
}


def test_smtp_defaults_to_starttls_on_587_without_auth():
    cleaned, errors = EMAIL.validate(SMTP, complete=True, today=TODAY)
    assert errors == []
    assert cleaned["security"] == "starttls" and cleaned["port"] == 587
    assert "username" not in cleaned and "base_url" not in cleaned


def test_resend_defaults_to_the_public_api_and_accepts_the_loopback_simulator():
    values = {"provider": "resend", "from_email": "hub@acme.example", "to_emails": "a@acme.example", "api_key": "re_1"}
    cleaned, errors = EMAIL.validate(values, complete=True, today=TODAY)
    assert errors == [] and cleaned["base_url"] == "https://api.resend.com" and "security" not in cleaned
    _, errors = EMAIL.validate({**values, "base_url": "http://127.0.0.1:8790"}, complete=True, today=TODAY)
    assert errors == []
    _, errors = EMAIL.validate({**values, "base_url": "http://api.resend.com"}, complete=True, today=TODAY)
    assert [e.field for e in errors] == ["base_url"]


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({"to_emails": "ops@acme.example; cfo@acme.example"}, "to_emails", "separated by commas"),
        ({"to_emails": "ops@acme.example, Ops <x@acme.example>"}, "to_emails", "separated by commas"),
        ({"to_emails": "ops@acme.example,"}, "to_emails", "separated by commas"),
        ({"security": "ssl"}, "security", "one of starttls, tls, none"),
        ({"from_email": "hub at acme"}, "from_email", "e-mail address"),
    ],
)
def test_bad_email_settings_name_the_field(values, field, reason):
    _, errors = EMAIL.validate({**SMTP, **values}, complete=True, today=TODAY)
    assert [e.field for e in errors] == [field] and reason in errors[0].reason


def test_several_recipients_validate_and_reach_the_connector_as_a_list():
    values = {**SMTP, "to_emails": " ops@acme.example ,cfo@acme.example, ops@acme.example "}
    cleaned, errors = EMAIL.validate(values, complete=True, today=TODAY)
    assert errors == []
    channel = build_email(ConnectorConfig(cleaned))
    assert isinstance(channel, SmtpChannel) and channel.recipients == ("ops@acme.example", "cfo@acme.example")


def test_settings_stored_before_security_existed_still_validate_on_resume():
    # Stored rows may carry the old 'secure' flag; resume re-validates them, and an unknown field would fail it.
    stored = {**SMTP, "secure": True, "username": "u"}
    cleaned, errors = EMAIL.validate(stored, complete=True, today=TODAY, present_secrets=frozenset({"password"}))
    assert errors == [] and cleaned["security"] == "starttls"


def test_username_without_password_passes_the_catalog_but_not_the_connector():
    # The catalog cannot say "required together"; the connector refuses one without the other.
    cleaned, errors = EMAIL.validate({**SMTP, "username": "u"}, complete=True, today=TODAY)
    assert errors == []
    with pytest.raises(ConfigurationError, match="the password is missing"):
        build_email(ConnectorConfig(cleaned))


def test_resend_takes_at_most_50_recipients():
    many = ", ".join(f"r{i}@acme.example" for i in range(51))
    values = {"provider": "resend", "from_email": "hub@acme.example", "to_emails": many, "api_key": "re_1"}
    cleaned, errors = EMAIL.validate(values, complete=True, today=TODAY)
    assert errors == []
    with pytest.raises(ConfigurationError, match="at most 50 recipients"):
        build_email(ConnectorConfig({k: v for k, v in cleaned.items() if k != "api_key"}, {"api_key": "re_1"}))
    fifty = ", ".join(f"r{i}@acme.example" for i in range(50))
    assert isinstance(build_email(ConnectorConfig({**cleaned, "to_emails": fifty}, {"api_key": "re_1"})), ResendChannel)
