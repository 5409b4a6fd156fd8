"""Alerts by SMTP with the standard library: STARTTLS, implicit TLS or (loopback only) plain, AUTH if configured.

Every failure becomes one line a person can act on and that names no secret:

* 535 and other AUTH refusals -> :class:`AuthenticationError` naming the user, never the password;
* a refused sender or recipient -> :class:`ConfigurationError` naming the address the server refused;
* an untrusted certificate or a TLS handshake on the wrong port -> :class:`ConfigurationError` with the fix
  (``ca_file`` for a private CA, ``security``/``port``);
* no connection, a timeout or a dropped connection -> :class:`TransientError` naming ``host:port`` and the
  operating system's reason.

Only the connect/TLS/login phase is retried (bounded, jittered, as the HTTP connectors do): nothing has been
sent then. Once DATA may have reached the server a failure is raised, never resent, so no alert goes out twice.
"""

from __future__ import annotations

import logging
import random
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from integration_hub.connectors.alerts import Alert, Delivery
from integration_hub.connectors.base import (
    AuthenticationError,
    ConfigurationError,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    ProviderError,
    TransientError,
    required_setting,
)
from integration_hub.connectors.email.render import render, thread_reference
from integration_hub.connectors.email.settings import (
    DEFAULT_SMTP_PORT,
    IMPLICIT_TLS_PORT,
    PROVIDER,
    SECURITY_MODES,
    TIMEOUT_SECONDS,
    recipients,
    sender,
)
from integration_hub.connectors.http import LOOPBACK_HOSTS, RetryPolicy

log = logging.getLogger(__name__)
CONNECT_RETRY = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=10.0)


def _reason(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())


class SmtpChannel:
    """One SMTP account and its recipients, delivering each alert as a text + HTML e-mail."""

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = TIMEOUT_SECONDS,
        retry: RetryPolicy = CONNECT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host = required_setting(config, "host", PROVIDER)
        self.port = self._port(config)
        self.security = str(config.setting("security", "starttls")).strip()
        if self.security not in SECURITY_MODES:
            raise ConfigurationError(f"{PROVIDER}: security must be one of {', '.join(SECURITY_MODES)}")
        if self.security == "none" and self.host not in LOOPBACK_HOSTS:
            raise ConfigurationError(
                f"{PROVIDER}: security 'none' sends mail and passwords in clear; it is allowed only to "
                f"127.0.0.1/localhost, not to '{self.host}' (use starttls or tls)"
            )
        self.username = str(config.setting("username", "")).strip()
        self._password = config.secrets.get("password", "") or ""
        if bool(self.username) != bool(self._password):
            missing = "password" if self.username else "username"
            raise ConfigurationError(
                f"{PROVIDER}: SMTP username and password go together; the {missing} is missing "
                "(leave both empty for a server without AUTH)"
            )
        self.sender = sender(config)
        self.recipients = recipients(config)
        self.where = f"{self.host}:{self.port}"
        self.timeout = timeout
        self._retry = retry
        self._sleep = sleep
        self._rng = random.Random()
        self._context = ssl_context or self._ssl_context(config)

    @staticmethod
    def _port(config: ConnectorConfig) -> int:
        raw = config.setting("port", DEFAULT_SMTP_PORT)
        try:
            port = int(raw)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{PROVIDER}: port must be a whole number") from None
        if not 1 <= port <= 65535:
            raise ConfigurationError(f"{PROVIDER}: port must be between 1 and 65535")
        return port

    @staticmethod
    def _ssl_context(config: ConnectorConfig) -> ssl.SSLContext:
        """The system's trust store, or only ``ca_file`` (a private CA) when it is set; hostnames always checked."""
        ca_file = str(config.setting("ca_file", "")).strip()
        if not ca_file:
            return ssl.create_default_context()
        if not Path(ca_file).is_file():
            raise ConfigurationError(f"{PROVIDER}: ca_file '{ca_file}' is not a readable file")
        try:
            return ssl.create_default_context(cafile=ca_file)
        except ssl.SSLError as exc:
            raise ConfigurationError(
                f"{PROVIDER}: ca_file '{ca_file}' holds no PEM certificate ({exc.reason})"
            ) from None

    # --- connection ------------------------------------------------------------------------------
    def _hide(self, text: str) -> str:
        return text.replace(self._password, "***") if len(self._password) >= 4 else text

    def _connect_once(self) -> smtplib.SMTP:
        local = socket.gethostname() or "localhost"  # not getfqdn(): no DNS lookup before the first byte
        smtp: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, local_hostname=local, timeout=self.timeout, context=self._context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, local_hostname=local, timeout=self.timeout)
            smtp.ehlo()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ConfigurationError(
                        f"{PROVIDER}: SMTP server {self.where} does not offer STARTTLS "
                        "(use security=tls for an implicit-TLS port such as 465)"
                    )
                smtp.starttls(context=self._context)
                smtp.ehlo()
            if self.username:
                if not smtp.has_extn("auth"):
                    raise ConfigurationError(
                        f"{PROVIDER}: SMTP server {self.where} offers no AUTH, but a username is configured"
                    )
                smtp.login(self.username, self._password)
            return smtp
        except BaseException as exc:
            if smtp is not None:
                _close(smtp)
            raise self._classify(exc) from None

    def _classify(self, exc: BaseException) -> BaseException:
        """The one-line hub error for a failure while connecting, negotiating TLS or logging in."""
        where = self.where
        if isinstance(exc, ConnectorError):
            return exc
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return AuthenticationError(
                f"{PROVIDER}: SMTP server {where} rejected the login of '{self.username}' "
                f"({exc.smtp_code} {self._hide(_reason(exc.smtp_error))}); check username and password"
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return ConfigurationError(
                f"{PROVIDER}: the TLS certificate of {where} is not trusted ({exc.verify_message}); "
                "set ca_file to the CA that signed it"
            )
        if isinstance(exc, ssl.SSLError):
            return ConfigurationError(
                f"{PROVIDER}: TLS with {where} failed ({exc.reason or exc}); check that security "
                f"'{self.security}' matches the port (starttls: 587, tls: 465)"
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return ConfigurationError(f"{PROVIDER}: SMTP server {where} does not support {exc}")
        if isinstance(exc, smtplib.SMTPConnectError):
            return TransientError(
                f"{PROVIDER}: SMTP server {where} refused the session ({exc.smtp_code} {_reason(exc.smtp_error)})"
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            return ProviderError(
                f"{PROVIDER}: SMTP server {where} answered {exc.smtp_code} {self._hide(_reason(exc.smtp_error))}"
            )
        timed_out = isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)
        if timed_out or isinstance(exc, TimeoutError | socket.timeout):
            hint = (
                " (port 465 expects security=tls)"
                if self.port == IMPLICIT_TLS_PORT and self.security == "starttls"
                else ""
            )
            return TransientError(f"{PROVIDER}: no answer from SMTP server {where} within {self.timeout:g} s{hint}")
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return TransientError(f"{PROVIDER}: SMTP server {where} closed the connection ({_reason(str(exc))})")
        if isinstance(exc, socket.gaierror):
            return TransientError(f"{PROVIDER}: cannot resolve SMTP host {self.host} ({exc.strerror})")
        if isinstance(exc, OSError):
            return TransientError(f"{PROVIDER}: cannot connect to SMTP server {where} ({exc.strerror or exc})")
        if isinstance(exc, smtplib.SMTPException):
            return ProviderError(f"{PROVIDER}: SMTP with {where} failed ({self._hide(_reason(str(exc)))})")
        return exc

    def _connect(self) -> smtplib.SMTP:
        """Connect, negotiate TLS and log in; transient failures are retried a bounded number of times."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._connect_once()
            except TransientError as exc:
                if attempt >= self._retry.max_attempts:
                    raise
                wait = self._retry.backoff(attempt, self._rng)
                log.warning("%s (attempt %d of %d); retrying in %.1f s", exc, attempt, self._retry.max_attempts, wait)
                self._sleep(wait)

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        smtp = self._connect()
        try:
            yield smtp
        finally:
            _close(smtp)

    # --- AlertChannel ----------------------------------------------------------------------------
    def test_connection(self) -> ConnectionTestResult:
        """Connect, negotiate TLS, log in if configured, and QUIT: nothing is sent."""
        try:
            with self._session():
                pass
        except ConnectorError as exc:
            return ConnectionTestResult(False, str(exc))
        tls = {"starttls": "STARTTLS negotiated", "tls": "implicit TLS", "none": "no TLS (loopback)"}[self.security]
        login = f"logged in as '{self.username}'" if self.username else "no login configured"
        return ConnectionTestResult(True, f"connected to SMTP server {self.where}, {tls}, {login}; no e-mail was sent")

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail for ``alert``: text and HTML alternatives, Message-ID, References and X-Hub-Incident."""
        rendered = render(alert)
        domain = self.sender.rpartition("@")[2]
        msg = EmailMessage()
        msg["Subject"] = rendered.subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(idstring="hub-alert", domain=domain)
        msg["References"] = thread_reference(alert, domain)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer
        for name, value in rendered.headers.items():
            msg[name] = value
        msg.set_content(rendered.text)
        msg.add_alternative(rendered.html, subtype="html")
        return msg

    def send(self, alert: Alert) -> Delivery:
        msg = self.message(alert)
        with self._session() as smtp:
            try:
                refused = smtp.send_message(msg, from_addr=self.sender, to_addrs=list(self.recipients))
            except smtplib.SMTPRecipientsRefused as exc:
                listed = "; ".join(
                    f"{address} ({code} {_reason(text)})" for address, (code, text) in exc.recipients.items()
                )
                raise ConfigurationError(
                    f"{PROVIDER}: SMTP server {self.where} refused every recipient: {listed}"
                ) from None
            except smtplib.SMTPSenderRefused as exc:
                raise ConfigurationError(
                    f"{PROVIDER}: SMTP server {self.where} refused the sender {self.sender} "
                    f"({exc.smtp_code} {_reason(exc.smtp_error)})"
                ) from None
            except smtplib.SMTPDataError as exc:
                raise ProviderError(
                    f"{PROVIDER}: SMTP server {self.where} refused the message "
                    f"({exc.smtp_code} {_reason(exc.smtp_error)})"
                ) from None
            except (smtplib.SMTPException, OSError) as exc:
                # The message may have reached the server: raised, never resent.
                raise self._classify(exc) from None
        if refused:
            # Delivered to the others: raising would make the caller resend to them too.
            log.warning(
                "%s: SMTP server %s refused %d of %d recipients: %s",
                PROVIDER,
                self.where,
                len(refused),
                len(self.recipients),
                ", ".join(sorted(refused)),
            )
        return Delivery(channel="email", message_id=str(msg["Message-ID"]))

    def close(self) -> None:
        """Nothing to release: every send opens and closes its own SMTP session."""


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
