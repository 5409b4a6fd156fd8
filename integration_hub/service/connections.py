"""Connection lifecycle rules, each action in one transaction with its activity-log entry.

States: ``draft`` (saved, never switched on; may be incomplete) → ``connected`` (collecting) ⇄ ``paused``
(still connected, collection stopped) → ``disconnected`` (off; settings and credentials kept so a
reconnect does not ask for them again). Clearing credentials is only allowed when not switched on.

Rules a demanding user relies on:

* A connection can never be switched on with incomplete or invalid settings; errors name the field.
* Connect (and an edit of a live connection) runs Test Connection first and changes nothing if it fails.
* A blank secret on edit keeps the stored one. Secrets are never echoed, logged or put in errors.
* Bad input (unknown integration, bad company key, wrong type, future start date) changes nothing,
  not even the activity log; a real attempt that fails (a rejected test) is logged as an Error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection as SqlConnection
from sqlalchemy.exc import IntegrityError, OperationalError

from integration_hub.catalog import IntegrationDefinition, UnknownIntegrationError, get_definition
from integration_hub.catalog.model import FieldError
from integration_hub.connectors import build_alert_channel, build_connector, has_alert_channel, has_connector
from integration_hub.connectors.alerts import AlertChannel
from integration_hub.connectors.base import ConnectionTestResult, Connector, ConnectorConfig
from integration_hub.redact import redact
from integration_hub.service.errors import (
    ConflictError,
    NotFoundError,
    StateError,
    TestFailedError,
    UnavailableError,
    ValidationError,
)
from integration_hub.store import Store, coverage
from integration_hub.store import activity as activity_log
from integration_hub.store import connections as rows
from integration_hub.store.activity import Action, Status
from integration_hub.store.connections import ConnectionRecord
from integration_hub.store.database import utcnow

COMPANY_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
ON_STATES = ("connected", "paused")

ConnectorTester = Callable[[str, ConnectorConfig], ConnectionTestResult]
ActionMethod = TypeVar("ActionMethod", bound=Callable[..., Any])


def _unique_violation(exc: IntegrityError) -> bool:
    """A duplicate key (a racing insert), not a CHECK or foreign-key bug that must surface as one."""
    return getattr(exc.orig, "pgcode", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def one_line_on_conflict(method: ActionMethod) -> ActionMethod:
    """Two commands racing on one connection: the loser's transaction is rolled back (a unique key or the row
    version refused it), and it says so in one line instead of a traceback holding the row's values."""

    @functools.wraps(method)
    def wrapper(self: ConnectionService, company: str, integration_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, company, integration_id, *args, **kwargs)
        except IntegrityError as exc:
            if not _unique_violation(exc):
                raise
            raise ConflictError(
                f"{company}/{integration_id} was changed by another command at the same moment; this one changed "
                "nothing: check `integration-hub connections` and run it again if still needed"
            ) from None
        except rows.ConcurrentChangeError:
            raise ConflictError(
                f"{company}/{integration_id} was changed by another command at the same moment; this one changed "
                "nothing: check `integration-hub connections` and run it again if still needed"
            ) from None
        except OperationalError as exc:
            if "locked" not in str(exc).lower():
                raise
            raise ConflictError(
                f"{company}/{integration_id}: the hub's database stayed busy with another command; nothing was "
                "changed, run it again"
            ) from None

    return wrapper  # type: ignore[return-value]


def validate_company(company: str) -> str:
    """Company keys are stable slugs; ``|`` is refused because it breaks Dagster multi-partition keys."""
    if "|" in company:
        raise ValidationError(f"company key '{company}' contains '|', which breaks Dagster partition keys")
    if not COMPANY_KEY.fullmatch(company or ""):
        raise ValidationError(
            f"company key '{company}' is not a slug (lowercase letters, digits, '-' and '_', 1-64 characters)"
        )
    return company


def run_connector_test(integration_id: str, config: ConnectorConfig) -> ConnectionTestResult:
    """Test Connection through the integration's connector or alert channel; honest when it has neither."""
    if has_alert_channel(integration_id):
        connector: Connector | AlertChannel = build_alert_channel(integration_id, config)
    elif has_connector(integration_id):
        connector = build_connector(integration_id, config)
    else:
        return ConnectionTestResult(
            False, f"'{integration_id}' is not built yet: the hub can store its settings but cannot test or use them"
        )
    try:
        return connector.test_connection()
    finally:
        connector.close()


class ConnectionService:
    def __init__(
        self,
        store: Store,
        *,
        today: Callable[[], date] | None = None,
        tester: ConnectorTester = run_connector_test,
    ) -> None:
        self.store = store
        self._today = today or (lambda: datetime.now(UTC).date())
        self._tester = tester

    # ----------------------------------------------------------------- lookups
    def definition(self, integration_id: str, *, require_available: bool = True) -> IntegrationDefinition:
        try:
            definition = get_definition(integration_id)
        except UnknownIntegrationError as exc:
            raise ValidationError(str(exc)) from None
        if require_available:
            availability = definition.is_available(self.store.settings)
            if not availability.available:
                raise UnavailableError(f"{definition.name} is not available in this deployment: {availability.reason}")
        return definition

    def get(self, company: str, integration_id: str) -> ConnectionRecord:
        self.definition(integration_id, require_available=False)
        with self.store.engine.connect() as conn:
            record = rows.get(conn, validate_company(company), integration_id)
        if record is None:
            raise NotFoundError(f"{company} has no {integration_id} connection")
        return record

    def list(self, *, company: str | None = None, integration_id: str | None = None) -> list[ConnectionRecord]:
        with self.store.engine.connect() as conn:
            return rows.list_connections(
                conn, company=company, integration_ids=[integration_id] if integration_id else None
            )

    def connector_config(self, record: ConnectionRecord) -> ConnectorConfig:
        """Settings plus decrypted secrets, for a connector (the Dagster layer's entry point)."""
        return ConnectorConfig(
            settings=dict(record.settings), secrets=self._stored_secrets(record), company=record.company
        )

    # ----------------------------------------------------------------- actions
    @one_line_on_conflict
    def save_draft(self, company: str, integration_id: str, values: Mapping[str, Any], *, by: str) -> ConnectionRecord:
        """Save settings without switching the connection on; incomplete is fine, invalid is not."""
        definition = self.definition(integration_id)
        validate_company(company)
        with self.store.engine.begin() as conn:
            record = rows.get(conn, company, integration_id, for_update=True)
            if record is not None and record.state in ON_STATES:
                raise StateError(f"{company}/{integration_id} is {record.state}; use edit to change it")
            settings, secrets, changed = self._merge(definition, record, values, complete=False, verb="save")
            self._write(conn, definition, company, record, "draft", settings, secrets, by)
            self._log(
                conn,
                Action.SAVE_DRAFT,
                Status.SUCCESS,
                _changes_text(definition, changed, settings, record.settings if record else None),
                company,
                integration_id,
                by,
            )
        return self.get(company, integration_id)

    @one_line_on_conflict
    def connect(
        self,
        company: str,
        integration_id: str,
        values: Mapping[str, Any],
        *,
        by: str,
        skip_test: bool = False,
    ) -> ConnectionRecord:
        definition = self.definition(integration_id)
        validate_company(company)
        with self.store.engine.connect() as conn:
            record = rows.get(conn, company, integration_id)
        if record is not None and record.state == "connected":
            raise StateError(f"{company}/{integration_id} is already connected; use edit to change it")
        if record is not None and record.state == "paused":
            raise StateError(f"{company}/{integration_id} is paused; use resume")
        settings, secrets, changed = self._merge(definition, record, values, complete=True, verb="connect")
        tested = None if skip_test else self._test_or_refuse(definition, company, settings, secrets, by, "connect")
        with self.store.engine.begin() as conn:
            current = rows.get(conn, company, integration_id, for_update=True)
            if current is not None and current.state in ON_STATES:  # another connect won the race since our first read
                raise StateError(
                    f"{company}/{integration_id} is already connected (by another command at the same moment); "
                    "use edit to change it"
                )
            self._write(conn, definition, company, current, "connected", settings, secrets, by)
            if tested is not None and current is None:  # the test ran before the record existed
                self._store_test(conn, company, integration_id, tested, by)
            detail = "connected" + ("" if record is None else " again") + (" without a test" if skip_test else "")
            if changed:
                detail += "; " + _changes_text(definition, changed, settings, record.settings if record else None)
            self._log(conn, Action.CONNECT, Status.SUCCESS, detail, company, integration_id, by)
        return self.get(company, integration_id)

    @one_line_on_conflict
    def edit(
        self,
        company: str,
        integration_id: str,
        values: Mapping[str, Any],
        *,
        by: str,
        skip_test: bool = False,
    ) -> ConnectionRecord:
        definition = self.definition(integration_id)
        record = self.get(company, integration_id)
        live = record.state in ON_STATES
        settings, secrets, changed = self._merge(definition, record, values, complete=live, verb="edit")
        if not changed:
            raise ValidationError("nothing to change: give at least one field")
        if live and not skip_test:
            self._test_or_refuse(definition, company, settings, secrets, by, "edit")
        with self.store.engine.begin() as conn:
            current = rows.get(conn, company, integration_id, for_update=True)
            self._write(conn, definition, company, current, record.state, settings, secrets, by)
            coverage.clear_backoff(conn, company=company, integration_id=integration_id)  # fixed: try again now
            self._log(
                conn,
                Action.EDIT,
                Status.SUCCESS,
                _changes_text(definition, changed, settings, record.settings),
                company,
                integration_id,
                by,
            )
        return self.get(company, integration_id)

    @one_line_on_conflict
    def pause(self, company: str, integration_id: str, *, by: str) -> ConnectionRecord:
        return self._transition(
            company,
            integration_id,
            by,
            Action.PAUSE,
            {"connected"},
            "paused",
            "collection paused; the connection stays connected",
        )

    @one_line_on_conflict
    def resume(self, company: str, integration_id: str, *, by: str) -> ConnectionRecord:
        definition = self.definition(integration_id)
        record = self.get(company, integration_id)
        if record.state == "paused":
            # Settings may have been saved under older rules: re-check before switching collection back on.
            self._merge(definition, record, {}, complete=True, verb="resume")
        resumed = self._transition(
            company, integration_id, by, Action.RESUME, {"paused"}, "connected", "collection resumed where it stopped"
        )
        with self.store.engine.begin() as conn:
            coverage.clear_backoff(conn, company=company, integration_id=integration_id)
        return resumed

    @one_line_on_conflict
    def disconnect(self, company: str, integration_id: str, *, by: str) -> ConnectionRecord:
        return self._transition(
            company,
            integration_id,
            by,
            Action.DISCONNECT,
            {"connected", "paused"},
            "disconnected",
            "disconnected; settings and credentials kept for reconnecting",
        )

    @one_line_on_conflict
    def clear_credentials(self, company: str, integration_id: str, *, by: str) -> ConnectionRecord:
        definition = self.definition(integration_id, require_available=False)
        with self.store.engine.begin() as conn:
            record = rows.get(conn, validate_company(company), integration_id, for_update=True)
            if record is None:
                raise NotFoundError(f"{company} has no {integration_id} connection")
            if record.state in ON_STATES:
                raise StateError(
                    f"{company}/{integration_id} is {record.state}; disconnect it before clearing credentials"
                )
            if not record.has_secrets:
                raise StateError(f"{company}/{integration_id} has no stored credentials")
            rows.update(conn, record, performed_by=by, secrets=None, secret_fields=[])
            names = ", ".join(record.secret_fields) or "credentials"
            self._log(conn, Action.CLEAR_CREDENTIALS, Status.SUCCESS, f"removed {names}", company, definition.id, by)
        return self.get(company, integration_id)

    @one_line_on_conflict
    def test(self, company: str, integration_id: str, *, by: str) -> ConnectionTestResult:
        """Test the stored connection (any state with complete settings); logged either way."""
        definition = self.definition(integration_id)
        record = self.get(company, integration_id)
        settings, secrets, _ = self._merge(definition, record, {}, complete=True, verb="test")
        result = self._run_test(definition, company, settings, secrets)
        with self.store.engine.begin() as conn:
            self._record_test(conn, definition, company, result, by)
        return result

    def record_activity(
        self, company: str, integration_id: str, action: Action, status: Status, details: str, *, by: str
    ) -> None:
        """Log a provider-side change made for a connection (e.g. webhook subscriptions)."""
        with self.store.engine.begin() as conn:
            self._log(conn, action, status, details, company, integration_id, by)

    def rotate_key(self, *, by: str) -> int:
        """Re-encrypt every stored credential under the newest key; returns how many were rotated."""
        from integration_hub.store.secrets import SecretBox, read_key_file, write_key_file

        settings = self.store.settings
        if settings.uses_key_file:
            from cryptography.fernet import Fernet

            old_keys = read_key_file(settings.key_file)
            new_key = Fernet.generate_key().decode()
            write_key_file(settings.key_file, [new_key, *old_keys])  # both decrypt while rows are rotated
            box = SecretBox([new_key, *old_keys], f"key file {settings.key_file}")
        else:
            box = self.store.box
        with self.store.engine.begin() as conn:
            tokens = rows.all_secret_tokens(conn)
            for connection_id, token in tokens:
                rows.set_secret_token(conn, connection_id, box.rotate(token))
            self._log(
                conn,
                Action.ROTATE_KEY,
                Status.SUCCESS,
                f"re-encrypted {len(tokens)} credential set(s) under a new key",
                None,
                None,
                by,
            )
        if settings.uses_key_file:
            write_key_file(settings.key_file, [new_key])  # old keys retired only after the commit
            box = SecretBox([new_key], f"key file {settings.key_file}")
        self.store.box = box
        return len(tokens)

    # ----------------------------------------------------------------- internals
    def _transition(
        self, company: str, integration_id: str, by: str, action: Action, allowed: set[str], target: str, detail: str
    ) -> ConnectionRecord:
        definition = self.definition(integration_id, require_available=action is not Action.DISCONNECT)
        with self.store.engine.begin() as conn:
            record = rows.get(conn, validate_company(company), integration_id, for_update=True)
            if record is None:
                raise NotFoundError(f"{company} has no {integration_id} connection")
            if record.state not in allowed:
                raise StateError(
                    f"cannot {str(action).lower()} {company}/{integration_id}: it is {record.state}"
                    f" (needs {' or '.join(sorted(allowed))})"
                )
            rows.update(conn, record, performed_by=by, state=target)
            self._log(conn, action, Status.SUCCESS, detail, company, definition.id, by)
        return self.get(company, integration_id)

    def _stored_secrets(self, record: ConnectionRecord | None) -> dict[str, str]:
        if record is None or not record.has_secrets:
            return {}
        with self.store.engine.connect() as conn:
            token = rows.secret_token(conn, record.id)
        return self.store.box.decrypt(token) if token else {}

    def _merge(
        self,
        definition: IntegrationDefinition,
        record: ConnectionRecord | None,
        values: Mapping[str, Any],
        *,
        complete: bool,
        verb: str,
    ) -> tuple[dict[str, Any], dict[str, str], list[str]]:
        """Stored settings + requested changes, validated. Returns (settings, full secret bag, changed names).

        ``verb`` is the user's command (``edit``, ``test``...): errors say what could not be done.
        """
        unknown = [
            FieldError(name, f"is not a field of {definition.name}")
            for name in values
            if name not in definition.field_names
        ]
        if unknown:
            raise ValidationError.from_fields(f"cannot {verb} {definition.id}", unknown)
        settings = dict(record.settings) if record else {}
        new_secrets: dict[str, str] = {}
        changed: list[str] = []
        for name, raw in values.items():
            spec = definition.field(name)
            if spec.secret:
                if raw is None or str(raw) == "":
                    continue  # blank secret keeps the stored one
                new_secrets[name] = str(raw)
                changed.append(name)
            elif raw is not None:
                if settings.get(name) != raw:
                    changed.append(name)
                settings[name] = raw
        present = frozenset(record.secret_fields) if record else frozenset()
        cleaned, errors = definition.validate(
            {**settings, **new_secrets}, complete=complete, today=self._today(), present_secrets=present
        )
        if errors:
            raise ValidationError.from_fields(f"cannot {verb} {definition.id}", errors)
        applicable = {spec.name for spec in definition.fields if spec.applies(cleaned)}
        clean_settings = {k: v for k, v in cleaned.items() if not definition.field(k).secret}
        secrets = {k: v for k, v in self._stored_secrets(record).items() if k in applicable} if present else {}
        secrets.update({k: v for k, v in cleaned.items() if definition.field(k).secret})
        changed = [name for name in changed if name in applicable or name in clean_settings]
        return clean_settings, secrets, changed

    def _run_test(
        self, definition: IntegrationDefinition, company: str, settings: dict[str, Any], secrets: dict[str, str]
    ) -> ConnectionTestResult:
        config = ConnectorConfig(settings=settings, secrets=secrets, company=company)
        try:
            result = self._tester(definition.id, config)
        except Exception as exc:  # a connector bug or an unclassified failure must still be one clean line
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            result = ConnectionTestResult(False, f"{type(exc).__name__}: {first_line}")
        return ConnectionTestResult(result.ok, redact(result.message, secrets.values()))

    def _record_test(
        self,
        conn: SqlConnection,
        definition: IntegrationDefinition,
        company: str,
        result: ConnectionTestResult,
        by: str,
    ) -> None:
        self._log(
            conn,
            Action.TEST_CONNECTION,
            Status.SUCCESS if result.ok else Status.ERROR,
            result.message,
            company,
            definition.id,
            by,
        )
        self._store_test(conn, company, definition.id, result, by)

    def _store_test(
        self, conn: SqlConnection, company: str, integration_id: str, result: ConnectionTestResult, by: str
    ) -> None:
        record = rows.get(conn, company, integration_id, for_update=True)
        if record is not None:
            rows.update(
                conn,
                record,
                performed_by=by,
                last_test_at=utcnow(),
                last_test_ok=result.ok,
                last_test_message=result.message,
            )

    def _test_or_refuse(
        self,
        definition: IntegrationDefinition,
        company: str,
        settings: dict[str, Any],
        secrets: dict[str, str],
        by: str,
        verb: str,
    ) -> ConnectionTestResult:
        result = self._run_test(definition, company, settings, secrets)
        with self.store.engine.begin() as conn:
            self._record_test(conn, definition, company, result, by)
            if not result.ok:
                action = Action.CONNECT if verb == "connect" else Action.EDIT
                self._log(
                    conn,
                    action,
                    Status.ERROR,
                    f"refused: Test Connection failed: {result.message}",
                    company,
                    definition.id,
                    by,
                )
        if not result.ok:
            raise TestFailedError(
                f"Test Connection failed, nothing was changed: {result.message} (--skip-test to {verb} anyway)"
            )
        return result

    def _write(
        self,
        conn: SqlConnection,
        definition: IntegrationDefinition,
        company: str,
        record: ConnectionRecord | None,
        state: str,
        settings: dict[str, Any],
        secrets: dict[str, str],
        by: str,
    ) -> None:
        token = self.store.box.encrypt(secrets) if secrets else None
        start = date.fromisoformat(settings["start_date"]) if settings.get("start_date") else None
        if record is None:
            rows.insert(
                conn,
                company=company,
                integration_id=definition.id,
                state=state,
                settings=settings,
                secrets_token=token,
                secret_fields=secrets.keys(),
                start_date=start,
                performed_by=by,
            )
        else:
            rows.update(
                conn,
                record,
                performed_by=by,
                state=state,
                settings=settings,
                secrets=token,
                secret_fields=list(secrets),
                start_date=start,
            )

    def _log(
        self,
        conn: SqlConnection,
        action: Action,
        status: Status,
        details: str,
        company: str | None,
        integration_id: str | None,
        by: str,
    ) -> None:
        activity_log.append(
            conn,
            action=action,
            status=status,
            details=details,
            performed_by=by,
            company=company,
            integration_id=integration_id,
        )


def _changes_text(
    definition: IntegrationDefinition,
    changed: list[str],
    settings: Mapping[str, Any],
    before: Mapping[str, Any] | None = None,
) -> str:
    """Names the changed fields with their values, ``old → new`` when there was a stored connection;
    secrets only by name (``password (secret) changed``), never their values."""
    if not changed:
        return "no field changed"
    parts = []
    for name in changed:
        if definition.field(name).secret:
            parts.append(f"{name} (secret) {'set' if before is None else 'changed'}")
        elif before is not None:
            parts.append(f"{name}: {before.get(name, '(unset)')} → {settings.get(name, '(cleared)')}")
        else:
            parts.append(f"{name}={settings.get(name, '(cleared)')}")
    return "; ".join(parts)
