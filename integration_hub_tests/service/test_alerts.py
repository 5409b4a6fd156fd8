"""When the hub tells people, and whom: incidents from health, once per route, retried when a route fails."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

from integration_hub.connectors.alerts import Alert, Delivery
from integration_hub.connectors.base import ConnectionTestResult, ConnectorConfig, DateWindow, TransientError
from integration_hub.service import ConnectionService
from integration_hub.service.alerts import AlertPolicy, AlertService
from integration_hub.store import Store, coverage

NOW = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
STREAMS = {"uyumsoft": ("invoices",)}


class Recorder:
    """An alert channel written for the tests: keeps what it was asked to send; ``down`` makes it fail."""

    sent: ClassVar[list[tuple[str, Alert]]] = []
    down: ClassVar[set[str]] = set()

    def __init__(self, integration_id: str, config: ConnectorConfig) -> None:
        self.route = f"{integration_id}:{config.company}"

    def test_connection(self) -> ConnectionTestResult:
        return ConnectionTestResult(True, "ok")

    def send(self, alert: Alert) -> Delivery:
        if self.route in Recorder.down:
            raise TransientError(f"{self.route}: unreachable")
        Recorder.sent.append((self.route, alert))
        return Delivery(self.route, f"m{len(Recorder.sent)}")

    def close(self) -> None:
        pass


def _service(store: Store, clock: list[datetime], ops: str | None = None) -> AlertService:
    Recorder.sent, Recorder.down = [], set()
    return AlertService(
        store, STREAMS, AlertPolicy(max_retries=2, ops_company=ops), channel_factory=Recorder, clock=lambda: clock[0]
    )


def _connect(store: Store, company: str, *alert_channels: str) -> None:
    svc = ConnectionService(store, today=lambda: date(2024, 3, 1))
    svc.connect(company, "uyumsoft", {"username": "u", "password": "GOOD-x", "start_date": "2024-02-01"}, by="t")
    for integration in alert_channels:  # stored without a test: the Recorder stands in for the provider
        values = (
            {"access_token": "xoxb-1-2-abc", "channel": "#ops"}
            if integration == "slack"
            else {"provider": "smtp", "host": "127.0.0.1", "from_email": "a@b.example", "to_emails": "c@d.example"}
        )
        svc.connect(company, integration, values, by="t", skip_test=True)


def _collect(store: Store, company: str, last: date, now: datetime = NOW) -> None:
    with store.engine.begin() as conn:
        coverage.record_collected(
            conn,
            company=company,
            integration_id="uyumsoft",
            stream="invoices",
            rows_per_day={day: 1 for day in DateWindow.inclusive(date(2024, 2, 1), last).days()},
            run_id="run-ok",
            now=now,
        )


def _fail(store: Store, company: str, kind: str = "transient", times: int = 1, start: int = 0) -> None:
    for n in range(start, start + times):
        with store.engine.begin() as conn:
            coverage.record_failed(
                conn,
                company=company,
                integration_id="uyumsoft",
                stream="invoices",
                window=DateWindow.single_day(date(2024, 2, 29)),
                error="uyumsoft: the provider rejected the credentials" if kind == "auth" else "HTTP 503 5 times",
                error_kind=kind,
                run_id=f"run-bad-{n}",
                now=NOW + timedelta(minutes=n + 1),
            )


def test_a_failure_the_retries_heal_never_alerts_one_that_lasts_alerts_once(store: Store, fake_connectors) -> None:
    _connect(store, "acme", "slack")
    _collect(store, "acme", date(2024, 2, 28))
    clock = [NOW]
    alerts = _service(store, clock)
    _fail(store, "acme", times=2)  # the first attempt and one retry: the RetryPolicy may still heal it
    assert alerts.tick().opened == []
    _fail(store, "acme", times=1)  # the last retry failed too
    assert [i.kind for i in alerts.tick().opened] == ["failing"]
    assert alerts.tick().opened == [] and len(Recorder.sent) == 1
    route, alert = Recorder.sent[0]
    assert (route, alert.kind, alert.severity) == ("slack:acme", "failing", "error")
    assert alert.title == "acme/uyumsoft: collection failing" and "HTTP 503 5 times" in alert.summary


def test_rejected_credentials_alert_at_once_with_the_fix(store: Store, fake_connectors) -> None:
    _connect(store, "acme", "email")
    _collect(store, "acme", date(2024, 2, 28))
    alerts = _service(store, [NOW])
    _fail(store, "acme", kind="auth")
    assert [i.kind for i in alerts.tick().opened] == ["needs_reauthorization"]
    ((route, alert),) = Recorder.sent
    assert route == "email:acme" and "integration-hub edit uyumsoft --company acme" in alert.summary


def test_behind_and_the_operations_route(store: Store, fake_connectors) -> None:
    _connect(store, "acme")  # no alert channel of its own
    _connect(store, "ops", "slack")
    _collect(store, "acme", date(2024, 2, 20))  # 9 days behind yesterday; 2 allowed
    _collect(store, "ops", date(2024, 2, 29))
    alerts = _service(store, [NOW], ops="ops")
    result = alerts.tick()
    assert [(i.company, i.kind) for i in result.opened] == [("acme", "behind")]
    assert [(route, a.title) for route, a in Recorder.sent] == [("slack:ops", "acme/uyumsoft: collection behind")]


def test_a_route_that_fails_is_retried_next_tick_and_told_once(store: Store, fake_connectors) -> None:
    _connect(store, "acme", "slack", "email")
    _collect(store, "acme", date(2024, 2, 28))
    alerts = _service(store, [NOW])
    _fail(store, "acme", kind="auth")
    Recorder.down = {"slack:acme"}
    first = alerts.tick()
    assert [r for _, r, _ in first.sent] == ["email:acme"] and [r for _, r, _, _ in first.failed] == ["slack:acme"]
    Recorder.down = set()
    second = alerts.tick()
    assert [r for _, r, _ in second.sent] == ["slack:acme"]
    assert sorted(route for route, _ in Recorder.sent) == ["email:acme", "slack:acme"]


def test_healed_before_anyone_was_told_announces_nothing(store: Store, fake_connectors) -> None:
    _connect(store, "acme", "slack")
    _collect(store, "acme", date(2024, 2, 28))
    clock = [NOW]
    alerts = _service(store, clock)
    _fail(store, "acme", kind="auth")
    Recorder.down = {"slack:acme"}
    assert alerts.tick().failed
    _collect(store, "acme", date(2024, 2, 29), now=NOW + timedelta(hours=1))  # healed while Slack was down
    Recorder.down = set()
    result = alerts.tick()
    assert len(result.resolved) == 1 and result.sent == [] and Recorder.sent == []


def test_a_failure_no_retry_can_heal_alerts_at_once(store: Store, fake_connectors) -> None:
    _connect(store, "acme", "slack")
    _collect(store, "acme", date(2024, 2, 28))
    alerts = _service(store, [NOW])
    _fail(store, "acme", kind="config")  # a setting the connector refuses: Dagster does not retry it
    assert [i.kind for i in alerts.tick().opened] == ["failing"]


def test_each_problem_heals_on_its_own(store: Store, fake_connectors) -> None:
    _connect(store, "acme", "slack")
    _collect(store, "acme", date(2024, 2, 20))  # 9 days behind
    alerts = _service(store, [NOW])
    assert [i.kind for i in alerts.tick().opened] == ["behind"]
    _fail(store, "acme", times=1)  # a failure the retries may heal: still behind, and nothing "recovered"
    second = alerts.tick()
    assert second.opened == [] and second.resolved == []
    _fail(store, "acme", kind="auth", start=1)  # now the credentials are rejected too
    third = alerts.tick()
    assert [i.kind for i in third.opened] == ["needs_reauthorization"] and third.resolved == []
    assert [a.kind for _, a in Recorder.sent] == ["behind", "needs_reauthorization"]


def test_pausing_closes_incidents_without_a_recovery_message(store: Store, fake_connectors) -> None:
    _connect(store, "acme", "slack")
    _collect(store, "acme", date(2024, 2, 28))
    alerts = _service(store, [NOW])
    _fail(store, "acme", kind="auth")
    assert alerts.tick().opened
    ConnectionService(store).pause("acme", "uyumsoft", by="t")
    closed = alerts.tick()
    assert len(closed.resolved) == 1 and closed.sent == []
    assert [a.kind for _, a in Recorder.sent] == ["needs_reauthorization"]  # no false "recovered"


def test_a_route_whose_channel_breaks_does_not_stop_the_others(store: Store, fake_connectors) -> None:
    _connect(store, "acme", "slack", "email")
    _collect(store, "acme", date(2024, 2, 28))
    _fail(store, "acme", kind="auth")

    def factory(integration_id: str, config: ConnectorConfig):
        if integration_id == "slack":
            raise UnicodeEncodeError("ascii", "ş", 0, 1, "ordinal not in range")
        return Recorder(integration_id, config)

    Recorder.sent, Recorder.down = [], set()
    alerts = AlertService(store, STREAMS, AlertPolicy(max_retries=2), channel_factory=factory, clock=lambda: NOW)
    result = alerts.tick()
    assert [r for _, r, _ in result.sent] == ["email:acme"]
    assert [(r, e.split(":")[0]) for _, r, _, e in result.failed] == [("slack:acme", "UnicodeEncodeError")]
