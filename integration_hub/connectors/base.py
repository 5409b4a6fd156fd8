"""The connector protocol: what every provider connector offers the rest of the hub.

A connector is "client + parsing" for one provider. It knows nothing of Dagster and nothing of the
connection store: it is built from plain settings and already-decrypted secrets, and it yields
normalized :class:`Record` objects for a :class:`DateWindow`. That keeps every connector testable on
its own against its simulator, and lets the Dagster layer compose any of them the same way.

Contract every connector honours:

* ``collect(stream, window)`` fetches the *whole* window with as few requests as the provider allows
  (a range query, never one request cycle per day when a range query exists) and yields records whose
  ``record_date`` lies inside the window. It streams: records are yielded as pages arrive.
* It fails loudly. Any page that still fails after its retries raises a :class:`ConnectorError`
  subclass with a one-line message; the caller then discards everything collected for the window, so
  no partial partition is ever written.
* Messages, ``repr`` and stats never contain a secret.
* It never calls a state-changing provider operation (mark as read/taken, accept, reject, send).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class DateWindow:
    """A half-open range of calendar days: ``start`` inclusive, ``end`` exclusive."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if not isinstance(self.start, date) or not isinstance(self.end, date):
            raise TypeError("DateWindow needs two dates")
        if self.end <= self.start:
            raise ValueError(f"empty date window: {self.start} .. {self.end} (end is exclusive)")

    @classmethod
    def single_day(cls, day: date) -> DateWindow:
        return cls(day, day + timedelta(days=1))

    @classmethod
    def inclusive(cls, first: date, last: date) -> DateWindow:
        """The window covering ``first`` .. ``last``, both included."""
        return cls(first, last + timedelta(days=1))

    @property
    def last(self) -> date:
        """The last day inside the window."""
        return self.end - timedelta(days=1)

    @property
    def num_days(self) -> int:
        return (self.end - self.start).days

    def days(self) -> Iterator[date]:
        day = self.start
        while day < self.end:
            yield day
            day += timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def chunks(self, max_days: int) -> Iterator[DateWindow]:
        """Split into consecutive windows of at most ``max_days`` (for providers that cap a range)."""
        if max_days < 1:
            raise ValueError("max_days must be at least 1")
        start = self.start
        while start < self.end:
            end = min(start + timedelta(days=max_days), self.end)
            yield DateWindow(start, end)
            start = end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.last.isoformat()}"


@dataclass(frozen=True, slots=True)
class Record:
    """One normalized row for the data inventory.

    ``external_key`` is the provider's stable identity for the record (Karbon PermaKey, ETTN plus
    direction, ...); together with ``record_type`` it is unique within a (company, integration, day)
    partition. ``record_date`` is the business date that decides which daily partition the record
    lands in. ``payload`` keeps the provider's raw fields (JSON-serializable) so nothing is lost in
    normalization; it must never contain credentials.
    """

    record_type: str
    external_key: str
    record_date: date
    amount: Decimal | None = None
    currency: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    counterparty: str | None = None
    description: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class CollectStats:
    """What a connector spent collecting: the numbers a data engineer checks after a run.

    ``reported_counts`` holds, per record type, the total the provider itself reported for the
    window (``@odata.count``, ``TotalCount``, ...) where it reports one; the asset check compares it
    with what was written. ``skipped_out_of_window`` counts documents the provider returned for the
    window that turned out to be dated outside it: they are dropped (they belong to another partition),
    but never silently — a non-zero count says the provider's date filter disagrees with ours.
    """

    requests: int = 0
    pages: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    reported_counts: dict[str, int] = field(default_factory=dict)
    skipped_out_of_window: int = 0
    _unreported: set[str] = field(default_factory=set, repr=False)

    def add_reported(self, record_type: str, count: int | None) -> None:
        """Add a provider total to ``reported_counts``. ``None`` — a page that should have carried the total
        but did not — drops the record type's count for good: a total covering only some directions or
        windows would make the asset's count check fail (or pass) for the wrong reason."""
        if count is None:
            self._unreported.add(record_type)
            self.reported_counts.pop(record_type, None)
        elif record_type not in self._unreported:
            self.reported_counts[record_type] = self.reported_counts.get(record_type, 0) + count

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "pages": self.pages,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "waited_seconds": round(self.waited_seconds, 3),
            "reported_counts": dict(self.reported_counts),
            "skipped_out_of_window": self.skipped_out_of_window,
        }


@dataclass(frozen=True, slots=True)
class ConnectionTestResult:
    """Outcome of Test Connection: ``ok`` plus one line a person can act on."""

    ok: bool
    message: str


class _SecretMapping(Mapping[str, str]):
    """A read-only mapping of decrypted secrets whose repr never shows a value."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return "Secrets(" + ", ".join(f"{k}=***" for k in sorted(self._values)) + ")"

    __str__ = __repr__


@dataclass(frozen=True)
class ConnectorConfig:
    """Everything a connector is built from: non-secret settings and decrypted secrets.

    ``settings`` carries the connection's metadata (``base_url``, ``environment``, ``start_date``,
    provider options); ``secrets`` the decrypted secret fields. ``company`` is only used in log
    context and error messages.
    """

    settings: Mapping[str, Any]
    secrets: Mapping[str, str] = field(default_factory=dict)
    company: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.secrets, _SecretMapping):
            object.__setattr__(self, "secrets", _SecretMapping(self.secrets))

    def setting(self, name: str, default: Any = None) -> Any:
        value = self.settings.get(name)
        return default if value in (None, "") else value

    def secret(self, name: str) -> str:
        try:
            value = self.secrets[name]
        except KeyError:
            raise ConfigurationError(f"missing secret field '{name}'") from None
        if not value:
            raise ConfigurationError(f"secret field '{name}' is empty")
        return value


MAX_ERROR_LENGTH = 400


class ConnectorError(Exception):
    """Base of every error a connector raises. ``str()`` is one line of at most :data:`MAX_ERROR_LENGTH`
    characters and never holds a secret: a provider's fault detail (a stack trace, a whole document) is cut."""

    def __init__(self, message: str) -> None:
        line = " ".join(str(message).split())
        super().__init__(line if len(line) <= MAX_ERROR_LENGTH else line[: MAX_ERROR_LENGTH - 1] + "…")


class ConfigurationError(ConnectorError):
    """The connection's settings cannot work (missing field, bad base URL, ...)."""


class AuthenticationError(ConnectorError):
    """The provider rejected the credentials. Never retried; the message names the credential."""


class ProviderError(ConnectorError):
    """The provider answered with something we cannot use (malformed document, broken contract)."""


class TransientError(ConnectorError):
    """Network trouble, 5xx or throttling that outlasted every retry."""


@runtime_checkable
class Connector(Protocol):
    """One provider account, ready to test and to collect."""

    stats: CollectStats

    def streams(self) -> tuple[str, ...]:
        """The stream names this connector collects (``("invoices",)``, Karbon's pillars, ...)."""
        ...

    def test_connection(self) -> ConnectionTestResult: ...

    def collect(self, stream: str, window: DateWindow) -> Iterator[Record]: ...

    def close(self) -> None: ...


# Settings every connector validates the same way; errors name the provider and the setting.


def required_setting(config: ConnectorConfig, name: str, provider: str) -> str:
    """A non-blank text setting (``username``), stripped."""
    value = str(config.setting(name, "")).strip()
    if not value:
        raise ConfigurationError(f"{provider}: the '{name}' setting is required")
    return value


def rate_setting(config: ConnectorConfig, default: float, provider: str) -> float:
    """``requests_per_minute`` (the provider's default when unset): a positive number."""
    try:
        rate = float(config.setting("requests_per_minute", default))
    except (TypeError, ValueError):
        raise ConfigurationError(f"{provider}: requests_per_minute must be a number") from None
    if rate <= 0:
        raise ConfigurationError(f"{provider}: requests_per_minute must be positive")
    return rate
