"""The SMTP alert channel against a real SMTP server (aiosmtpd) on 127.0.0.1: TLS, AUTH, the message, failures."""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from integration_hub.connectors.alerts import Alert, AlertChannel
from integration_hub.connectors.base import (
    AuthenticationError,
    ConfigurationError,
    ConnectorConfig,
    TransientError,
)
from integration_hub.connectors.email import SmtpChannel, build_email
from integration_hub.connectors.http import RetryPolicy
from integration_hub_tests.connectors.email.smtp_server import (
    PASSWORD,
    REFUSED_RECIPIENT,
    USERNAME,
    free_port,
    make_pki,
    smtp_server,
)

ALERT = Alert(
    kind="failing",
    severity="error",
    title="Uyumsoft collection failing for acme",
    summary="The invoices stream failed after 3 retries: Uyumsoft answered HTTP 503 three times.",
    incident_id="inc-acme-uyumsoft-invoices-1",
    company="acme",
    integration_id="uyumsoft",
    facts=(("Stream", "invoices"), ("Partition", "2026-10-30"), ("Attempts", "3")),
    link="http://127.0.0.1:3000/runs/4f1c",
)
NO_RETRY = RetryPolicy(max_attempts=1)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def config(at: int, pki=None, **overrides) -> ConnectorConfig:
    settings = {
        "provider": "smtp",
        "host": "127.0.0.1",
        "port": at,
        "security": "starttls",
        "username": USERNAME,
        "from_email": "hub@alerts.example",
        "to_emails": "ops@acme.example, finance@acme.example",
        "ca_file": str(pki.ca_file) if pki else "",
    }
    password = overrides.pop("password", PASSWORD)
    settings.update(overrides)
    return ConnectorConfig(settings, {"password": password} if password else {}, company="acme")


def channel(port: int, pki=None, **overrides) -> SmtpChannel:
    return SmtpChannel(config(port, pki, **overrides), timeout=5, retry=NO_RETRY)


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_starttls_with_auth_delivers_one_message_with_both_parts(pki, caplog):
    caplog.set_level(logging.DEBUG)
    with smtp_server(pki, mode="starttls") as (mailbox, port):
        sender = build_email(config(port, pki))
        assert isinstance(sender, SmtpChannel) and isinstance(sender, AlertChannel)
        delivery = sender.send(ALERT)
    assert len(mailbox.received) == 1 and mailbox.logins == [("PLAIN", True)]
    got = mailbox.received[0]
    assert got.mail_from == "hub@alerts.example"
    assert got.rcpt_tos == ["ops@acme.example", "finance@acme.example"]
    msg = got.message
    assert msg["Subject"] == "[ERROR] Uyumsoft collection failing for acme"
    assert msg["From"] == "hub@alerts.example"
    assert msg["To"] == "ops@acme.example, finance@acme.example"
    assert msg["X-Hub-Incident"] == "inc-acme-uyumsoft-invoices-1"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"] == delivery.message_id and delivery.message_id.endswith("@alerts.example>")
    assert msg["References"].startswith("<incident.") and delivery.channel == "email"
    assert msg.get_content_type() == "multipart/alternative"
    text, html = parts(msg)
    for body in (text, html):
        assert "The invoices stream failed after 3 retries" in body
        assert "2026-10-30" in body and "Partition" in body and "acme" in body
        assert "http://127.0.0.1:3000/runs/4f1c" in body
    assert '<a href="http://127.0.0.1:3000/runs/4f1c"' in html and "<th" in html
    assert PASSWORD.encode() not in got.raw and PASSWORD not in caplog.text


def test_auth_login_and_implicit_tls(pki):
    with smtp_server(pki, mode="starttls", exclude=("PLAIN",)) as (mailbox, port):
        channel(port, pki).send(ALERT)
    assert mailbox.logins == [("LOGIN", True)] and len(mailbox.received) == 1
    with smtp_server(pki, mode="tls") as (mailbox, port):
        channel(port, pki, security="tls").send(ALERT)
    assert len(mailbox.received) == 1 and mailbox.logins == [("PLAIN", True)]


def test_test_connection_logs_in_and_sends_nothing(pki):
    with smtp_server(pki, mode="starttls") as (mailbox, port):
        result = channel(port, pki).test_connection()
    assert result.ok, result.message
    assert "STARTTLS" in result.message and USERNAME in result.message and "no e-mail was sent" in result.message
    assert mailbox.received == [] and mailbox.logins == [("PLAIN", True)]


def test_a_wrong_password_is_a_one_line_authentication_error_without_it(pki):
    wrong = "Wr0ng-pa55word-xyz"
    with smtp_server(pki, mode="starttls") as (mailbox, port):
        with pytest.raises(AuthenticationError) as raised:
            channel(port, pki, password=wrong).send(ALERT)
        result = channel(port, pki, password=wrong).test_connection()
    message = str(raised.value)
    assert "535" in message and USERNAME in message and f"127.0.0.1:{port}" in message
    assert "\n" not in message and wrong not in message and PASSWORD not in message
    assert not result.ok and wrong not in result.message
    assert mailbox.received == []


def test_an_unreachable_port_is_a_transient_error_naming_host_and_port():
    port = free_port()  # nothing listens there
    waits: list[float] = []
    smtp = SmtpChannel(
        config(port, security="none"),
        timeout=2,
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02),
        sleep=waits.append,
    )
    with pytest.raises(TransientError) as raised:
        smtp.send(ALERT)
    assert f"127.0.0.1:{port}" in str(raised.value) and "Connection refused" in str(raised.value)
    assert len(waits) == 2  # three attempts in all, then the error
    assert not smtp.test_connection().ok


def test_a_server_that_never_greets_times_out_naming_the_port_mix_up():
    # STARTTLS against an implicit-TLS port looks like this: the server waits for a TLS hello, never greets.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.2", 465))  # loopback; as root the real implicit-TLS port number can be used
    listener.listen(1)
    try:
        with pytest.raises(TransientError) as raised:
            SmtpChannel(config(465, host="127.0.0.2"), timeout=0.5, retry=NO_RETRY).send(ALERT)
    finally:
        listener.close()
    message = str(raised.value)
    assert "127.0.0.2:465" in message and "within 0.5 s" in message and "port 465 expects security=tls" in message


def test_a_refused_recipient_is_a_configuration_error_naming_it(pki, caplog):
    with smtp_server(pki, mode="starttls") as (mailbox, port):
        with pytest.raises(ConfigurationError) as raised:
            channel(port, pki, to_emails=REFUSED_RECIPIENT).send(ALERT)
        assert mailbox.received == []
        caplog.set_level(logging.WARNING)
        channel(port, pki, to_emails=f"ops@acme.example, {REFUSED_RECIPIENT}").send(ALERT)
    assert REFUSED_RECIPIENT in str(raised.value) and "550" in str(raised.value)
    # Partly refused: delivered to the others (raising would make the caller resend to them), and said so.
    assert [r.rcpt_tos for r in mailbox.received] == [["ops@acme.example"]]
    assert REFUSED_RECIPIENT in caplog.text


def test_an_untrusted_certificate_asks_for_ca_file(pki):
    with smtp_server(pki, mode="starttls") as (mailbox, port), pytest.raises(ConfigurationError) as raised:
        channel(port, None).send(ALERT)  # the system trust store does not know the private CA
    assert "not trusted" in str(raised.value) and "ca_file" in str(raised.value)
    assert mailbox.received == []


def test_starttls_required_but_not_offered_is_refused_before_any_password_is_sent(pki):
    with smtp_server(None, mode="none") as (mailbox, port):
        with pytest.raises(ConfigurationError) as raised:
            channel(port, pki).send(ALERT)
        # Plain delivery is allowed to loopback only, and works there without AUTH.
        channel(port, None, security="none", username="", password="").send(ALERT)
    assert "does not offer STARTTLS" in str(raised.value)
    assert mailbox.logins == [] and len(mailbox.received) == 1


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"host": "smtp.acme.example", "security": "none"}, "only to 127.0.0.1/localhost"),
        ({"password": ""}, "the password is missing"),
        ({"username": ""}, "the username is missing"),
        ({"to_emails": "ops@acme.example, not-an-address"}, "'not-an-address' is not an e-mail address"),
        ({"to_emails": "ops@acme.example,,x@y.example"}, "empty entry"),
        ({"from_email": "hub"}, "from_email 'hub'"),
        ({"security": "ssl"}, "security must be one of starttls, tls, none"),
        ({"port": "0"}, "between 1 and 65535"),
        ({"ca_file": "/nonexistent/ca.pem"}, "ca_file '/nonexistent/ca.pem'"),
    ],
)
def test_bad_settings_are_refused_with_one_clear_line(overrides, expected):
    with pytest.raises(ConfigurationError) as raised:
        build_email(config(2525, **overrides))
    assert expected in str(raised.value) and "\n" not in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_alert_texts_cannot_inject_headers_or_markup(pki):
    hostile = Alert(
        kind="check_failed",
        severity="warning",
        title="Count check failed\r\nBcc: victim@evil.example",
        summary="<script>alert(1)</script> rows differ",
        incident_id="inc-2",
        facts=(("<b>Expected</b>", "10 & 12"),),
        link="javascript:alert(1)",
    )
    with smtp_server(pki, mode="starttls") as (mailbox, port):
        channel(port, pki).send(hostile)
    msg = mailbox.received[0].message
    assert msg["Bcc"] is None and mailbox.received[0].rcpt_tos == ["ops@acme.example", "finance@acme.example"]
    assert msg["Subject"] == "[WARNING] Count check failed Bcc: victim@evil.example"
    _, html = parts(msg)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Expected&lt;/b&gt;" in html
    assert "10 &amp; 12" in html and "javascript:" not in html


def test_sends_from_several_threads_each_deliver_once(pki):
    with smtp_server(pki, mode="starttls") as (mailbox, port):
        smtp = channel(port, pki)
        threads = [
            threading.Thread(target=smtp.send, args=(Alert("failing", "error", f"t{i}", "s", f"inc-{i}"),))
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert sorted(r.message["X-Hub-Incident"] for r in mailbox.received) == [f"inc-{i}" for i in range(4)]
