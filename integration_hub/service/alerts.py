"""When to tell people, and whom: incidents from connection health, one message per incident per route.

Each tick (the Dagster alerts sensor, every 30 s) reads connection health from the hub's own records (two queries
for any number of companies), opens an incident for each problem that deserves a person's attention, resolves the
ones that healed, and sends what is still owed:

* ``failing`` — a stream failed more times in a row than the run's retries allow (so a failure the RetryPolicy
  heals never alerts, and a lasting one alerts once, not once per retry);
* ``needs_reauthorization`` — the provider rejected the credentials (never retried: alerts at once);
* ``behind`` — a stream is more than ``HUB_ALERT_BEHIND_DAYS`` behind;
* ``check_failed`` — the latest run's asset checks failed.

Routes: the company's own connected Slack and Email connections, and those of the deployment's operations company
(``HUB_ALERT_OPS_COMPANY``), each addressed as ``<integration>:<company>``. A route that fails is retried on the next
tick; a route told of an opening is told of the recovery. Alerts carry the hub's own one-line, redacted messages, so
no secret can reach them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from integration_hub.connectors import build_alert_channel
from integration_hub.connectors.alerts import Alert, AlertChannel
from integration_hub.connectors.base import ConnectorConfig, ConnectorError
from integration_hub.redact import redact
from integration_hub.service.connections import ConnectionService
from integration_hub.service.health import ConnectionHealth, connection_health
from integration_hub.store import Store
from integration_hub.store import connections as rows
from integration_hub.store import incidents as store_incidents
from integration_hub.store.coverage import RETRIED_KINDS
from integration_hub.store.database import utcnow
from integration_hub.store.incidents import Incident

ALERT_INTEGRATIONS = ("slack", "email")
RECOVERY_WINDOW = timedelta(days=7)  # a recovery still owed to a route is sent for this long
KINDS = {
    "failing": ("error", "collection failing"),
    "needs_reauthorization": ("error", "credentials rejected"),
    "behind": ("warning", "collection behind"),
    "check_failed": ("warning", "asset check failed"),
}


@dataclass(frozen=True)
class AlertPolicy:
    """Deployment-wide alert settings (passed in by the Dagster layer, which reads them from the environment)."""

    max_retries: int = 3
    ops_company: str | None = None
    dagster_url: str | None = None


@dataclass
class TickResult:
    opened: list[Incident] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    sent: list[tuple[int, str, str]] = field(default_factory=list)
    failed: list[tuple[int, str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.opened)} incident(s) opened, {len(self.resolved)} resolved, {len(self.sent)} message(s) sent, "
            f"{len(self.failed)} failed"
        )


ChannelFactory = Callable[[str, ConnectorConfig], AlertChannel]


class AlertService:
    def __init__(
        self,
        store: Store,
        expected_streams: Mapping[str, tuple[str, ...]],
        policy: AlertPolicy,
        *,
        channel_factory: ChannelFactory = build_alert_channel,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.expected_streams = expected_streams
        self.policy = policy
        self.channel_factory = channel_factory
        self.clock = clock
        self._secrets: dict[str, tuple[str, ...]] = {}  # per route, to redact its failures

    def tick(self) -> TickResult:
        now = self.clock()
        result = TickResult()
        health = connection_health(self.store, self.expected_streams, today=now.date())
        problems = {
            (h.company, h.integration_id, kind): (summary, h)
            for h in health
            for kind, summary in self._problems(h)
        }
        with self.store.engine.begin() as conn:
            for incident in store_incidents.open_incidents(conn):
                if (incident.company, incident.integration_id, incident.kind) not in problems:
                    if store_incidents.resolve(conn, incident.id, now):
                        result.resolved.append(incident.id)
                else:
                    problems.pop((incident.company, incident.integration_id, incident.kind))
            for (company, integration_id, kind), (summary, h) in problems.items():
                run_id = next((s.run_id for s in h.streams if s.run_id), None)
                opened = store_incidents.open_incident(
                    conn,
                    company=company,
                    integration_id=integration_id,
                    kind=kind,
                    summary=summary,
                    run_id=run_id,
                    now=now,
                )
                if opened is not None:
                    result.opened.append(opened)
        self._deliver(now, {(h.company, h.integration_id): h for h in health}, result)
        return result

    # -- what deserves an incident ---------------------------------------------------------------------
    def _problems(self, h: ConnectionHealth) -> list[tuple[str, str]]:
        """Every problem the connection has now, each kind judged on its own (not only the worst state), so an
        incident resolves only when its own problem is gone: a behind connection that also fails is still behind.
        A paused or switched-off connection has none: its incidents close (without a recovery message)."""
        if h.state in ("paused", "off", "n/a"):
            return []
        problems: list[tuple[str, str]] = []
        failing = [s for s in h.streams if s.failing]
        rejected = [s for s in failing if s.error_kind == "auth"]
        if rejected:
            reason = rejected[0].last_error or "the provider rejected the credentials"
            problems.append(("needs_reauthorization", reason))
        # A failure the RetryPolicy may still heal waits for the retries; one it never retries alerts at once.
        lasting = [
            s
            for s in failing
            if s.error_kind != "auth"
            and (s.error_kind not in RETRIED_KINDS or s.consecutive_failures > self.policy.max_retries)
        ]
        if lasting:
            worst = max(lasting, key=lambda s: s.consecutive_failures)
            attempts = f"{worst.consecutive_failures} failed attempt(s) in a row"
            problems.append(("failing", f"{worst.stream}: {worst.last_error} ({attempts})"))
        if h.behind:
            problems.append(("behind", f"{h.days_behind} day(s) behind (allowed: {h.behind_days})"))
        checks = [f"{s.stream}: {s.failed_check}" for s in h.streams if s.failed_check]
        if checks:
            problems.append(("check_failed", "; ".join(checks)))
        return problems

    # -- who is told, once ------------------------------------------------------------------------------
    def _deliver(self, now: datetime, health: dict[tuple[str, str], ConnectionHealth], result: TickResult) -> None:
        with self.store.engine.connect() as conn:
            incidents = store_incidents.open_incidents(conn) + store_incidents.recently_resolved(
                conn, now - RECOVERY_WINDOW
            )
            routes = self._routes(conn, {i.company for i in incidents})
            sent = store_incidents.sent_messages(conn, [i.id for i in incidents])
        channels: dict[str, AlertChannel | ConnectorError] = {}
        try:
            for incident in incidents:
                for route in routes.get(incident.company, []) + routes.get(self.policy.ops_company or "", []):
                    if (incident.id, route, "opened") not in sent:
                        if incident.resolved_at is not None:
                            continue  # healed before anyone was told: nothing to announce either way
                        phase = "opened"
                    elif incident.resolved_at is not None and (incident.id, route, "resolved") not in sent:
                        current = health.get((incident.company, incident.integration_id))
                        if current is None or current.state in ("paused", "off"):
                            continue  # closed because collection stopped, not because it healed
                        phase = "resolved"
                    else:
                        continue
                    alert = self._alert(incident, phase, health.get((incident.company, incident.integration_id)))
                    self._send(route, alert, incident, phase, now, channels, result)
                    sent.add((incident.id, route, phase))
        finally:
            for channel in channels.values():
                if not isinstance(channel, ConnectorError):
                    channel.close()

    def _routes(self, conn, companies: set[str]) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
        """Alert routes per company: its connected Slack/Email connections (and the operations company's)."""
        wanted = companies | ({self.policy.ops_company} if self.policy.ops_company else set())
        routes: dict[str, list[str]] = {}
        for record in rows.list_connections(conn, integration_ids=list(ALERT_INTEGRATIONS), states=["connected"]):
            if record.company in wanted:
                routes.setdefault(record.company, []).append(f"{record.integration_id}:{record.company}")
        return routes

    def _send(
        self,
        route: str,
        alert: Alert,
        incident: Incident,
        phase: str,
        now: datetime,
        channels: dict[str, AlertChannel | ConnectorError],
        result: TickResult,
    ) -> None:
        integration_id, _, company = route.partition(":")
        if route not in channels:
            try:
                service = ConnectionService(self.store)
                config = service.connector_config(service.get(company, integration_id))
                self._secrets[route] = tuple(config.secrets.values())
                channels[route] = self.channel_factory(integration_id, config)
            except Exception as exc:  # a route that cannot be built (gone, bad settings) must not stop the tick
                channels[route] = ConnectorError(_one_line(exc))
        channel = channels[route]
        try:
            if isinstance(channel, ConnectorError):
                raise channel
            delivery = channel.send(alert)
            ok, message_id, error = True, delivery.message_id, None
        except Exception as exc:  # a channel's failure is this route's, never the other routes'
            ok, message_id, error = False, None, redact(_one_line(exc), self._secrets.get(route, ()))
            # The rest of this tick skips the route: one timeout per route and tick, not one per owed message.
            channels[route] = ConnectorError(error)
        with self.store.engine.begin() as conn:
            store_incidents.record_delivery(
                conn,
                incident_id=incident.id,
                route=route,
                phase=phase,
                ok=ok,
                message_id=message_id,
                error=error,
                now=now,
            )
        if ok:
            result.sent.append((incident.id, route, phase))
        else:
            result.failed.append((incident.id, route, phase, error or ""))

    def _alert(self, incident: Incident, phase: str, health: ConnectionHealth | None) -> Alert:
        where = f"{incident.company}/{incident.integration_id}"
        severity, what = KINDS.get(incident.kind, ("warning", incident.kind))
        facts = [("Company", incident.company), ("Integration", incident.integration_id)]
        if health is not None:
            facts.append(("Health", health.state))
            facts.append(("Last success", _when(health.last_success_at)))
            if health.days_behind is not None:
                facts.append(("Days behind", str(health.days_behind)))
            if health.next_attempt_at is not None and phase == "opened":
                facts.append(("Next attempt", _when(health.next_attempt_at)))
        facts.append(("Since", _when(incident.opened_at)))
        link = (
            f"{self.policy.dagster_url.rstrip('/')}/runs/{incident.run_id}"
            if self.policy.dagster_url and incident.run_id
            else None
        )
        if phase == "resolved":
            return Alert(
                kind="recovered",
                severity="info",
                title=f"{where}: recovered ({what})",
                summary=f"Healthy again; the problem began {_when(incident.opened_at)}: {incident.summary}",
                incident_id=f"incident-{incident.id}",
                company=incident.company,
                integration_id=incident.integration_id,
                facts=tuple(facts),
                link=link,
            )
        summary = incident.summary
        if incident.kind == "needs_reauthorization":
            summary += (
                f". Renew the credentials: integration-hub edit {incident.integration_id} --company {incident.company}"
            )
        return Alert(
            kind=incident.kind,
            severity=severity,
            title=f"{where}: {what}",
            summary=summary,
            incident_id=f"incident-{incident.id}",
            company=incident.company,
            integration_id=incident.integration_id,
            facts=tuple(facts),
            link=link,
        )


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:400]


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"
