"""A hub database at fleet scale, loaded in bulk: connections, per-day coverage, per-stream health, some inventory.

Loading 10,000 companies × three years through the store's write functions would take hours; this writes the
same rows those functions would have written, in bulk. Every connection gets a *profile* decided from its
index alone (deterministic, no randomness), so a benchmark or a test knows beforehand what the fleet summary
must count:

* ``healthy`` — collected every day from its start date up to yesterday;
* ``behind`` — collected up to 5–24 days before yesterday, nothing since (no error);
* ``failing`` — collected up to the day before yesterday, then yesterday's attempt failed (1–6 failures in a
  row, backing off until ``last_error_at`` + :func:`integration_hub.store.coverage.backoff`; every other one with
  the provider rejecting the credentials);
* ``never_collected`` — connected, nothing collected or attempted (half of them connected 30 days ago, so they are
  behind as well, half an hour ago, so they are pending);
* ``paused`` — paused 10 days ago, collected up to then.

One in a hundred connections has each non-healthy profile. Coverage rows are derived from the health rows
(every day from the connection's start date up to ``last_collected_day`` collected, the failed days after it
failed), so the two tables agree by construction. PostgreSQL gets them with one ``INSERT ... SELECT
generate_series`` per kind, its primary key rebuilt once afterwards; SQLite with a recursive CTE over the days.
The database must be migrated and hold no connections yet.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from integration_hub.store import schema
from integration_hub.store.coverage import backoff
from integration_hub.store.database import make_engine, upgrade

EINVOICE_INTEGRATION = "uyumsoft"
KARBON_STREAMS = ("tenant", "work", "contacts", "time", "ar", "content_items", "accounting")
PROFILES = ("healthy", "behind", "failing", "never_collected", "paused")
ROWS_MODULUS = 23  # a day's row count: (connection id × 31 + day number) mod 23, so some days are empty
EPOCH = date(2000, 1, 1)
AUTH_ERROR = "uyumsoft rejected the credentials: 401 Unauthorized"
PROVIDER_ERROR = "provider error: 503 Service Unavailable after 4 attempts"


def company_name(index: int) -> str:
    """The fleet's company keys: ``co00000``, ``co00001``, ... (sortable, valid Dagster partition keys)."""
    return f"co{index:05d}"


def profile_of(index: int) -> str:
    """The profile of the connection with this index (one in a hundred of each non-healthy kind)."""
    return {1: "behind", 2: "failing", 3: "never_collected", 4: "paused"}.get(index % 100, "healthy")


def rows_on(connection_id: int, day: date) -> int:
    """The row count a connection collected on a day (the SQL loader computes the same expression)."""
    return (connection_id * 31 + (day - EPOCH).days) % ROWS_MODULUS


@dataclass(frozen=True)
class Expected:
    """What the hub's own records say about one integration's connections, by construction."""

    connections: int = 0
    collecting: int = 0
    paused: int = 0
    behind: int = 0  # collecting, newest collected day more than ``behind_days`` before yesterday
    failing: int = 0  # collecting, some stream's latest attempt failed
    needs_reauthorization: int = 0  # failing with the credentials rejected
    never_collected: int = 0  # collecting, no stream ever collected
    backing_off: int = 0  # collecting, failing, next attempt after ``now``


@dataclass(frozen=True)
class LoadedFleet:
    """What :func:`populate_hub` loaded, and what the summary of it must say."""

    database_url: str
    today: date
    now: datetime  # the load's "now": ``today`` 06:00 UTC, the time the health rows were judged against
    first_day: date  # every connection's start date
    days: int
    companies: tuple[str, ...]
    einvoice_integration: str
    karbon_companies: tuple[str, ...]
    connections: int
    coverage_rows: int
    health_rows: int
    inventory_rows: int
    inventory_companies: tuple[str, ...]
    inventory_days: int  # the inventory covers ``today - inventory_days`` .. yesterday
    behind_days: int
    expected: dict[str, Expected] = field(default_factory=dict)
    profiles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # profile -> e-invoice companies
    seconds: float = 0.0


@dataclass(frozen=True)
class _Plan:
    company: str
    integration_id: str
    profile: str
    streams: tuple[str, ...]
    failing_stream: str | None


def _plans(companies: int, karbon: int) -> Iterator[_Plan]:
    for index in range(companies):
        profile = profile_of(index)
        yield _Plan(company_name(index), EINVOICE_INTEGRATION, profile, ("invoices",), "invoices")
        if index < karbon:
            # Shifted, so the Karbon connections' problems fall on other companies than their e-invoice ones.
            shifted = profile_of(index + 50)
            yield _Plan(company_name(index), "karbon", shifted, KARBON_STREAMS, "time")


def _index(company: str) -> int:
    return int(company[2:])


def _settings(plan: _Plan) -> dict[str, Any]:
    if plan.integration_id == "karbon":
        return {"application_id": "00000000-0000-4000-8000-000000000000"}
    return {"username": f"bench-{plan.company}", "auth_style": "ws_security", "requests_per_minute": 300}


def _connection_row(plan: _Plan, first_day: date, now: datetime, secrets_token: str | None) -> dict[str, Any]:
    index = _index(plan.company)
    connected_at = datetime.combine(first_day, clock(9), UTC)
    if plan.profile == "never_collected":
        connected_at = now - (timedelta(days=30) if index % 200 == 3 else timedelta(minutes=30))
    return {
        "company": plan.company,
        "integration_id": plan.integration_id,
        "state": "paused" if plan.profile == "paused" else "connected",
        "settings": _settings(plan),
        "secrets": secrets_token,
        "secret_fields": (["access_key"] if plan.integration_id == "karbon" else ["password"]) if secrets_token else [],
        "start_date": first_day,
        "created_at": connected_at,
        "updated_at": now - timedelta(days=10) if plan.profile == "paused" else connected_at,
        "updated_by": "bench",
        "connected_at": connected_at,
        "last_test_at": connected_at,
        "last_test_ok": True,
        "last_test_message": "ok",
        "version": 2 if plan.profile == "paused" else 1,
    }


def _health_rows(plan: _Plan, today: date, now: datetime) -> list[dict[str, Any]]:
    """The stream health rows of one connection (none for a connection never collected)."""
    if plan.profile == "never_collected":
        return []
    index = _index(plan.company)
    yesterday = today - timedelta(days=1)
    collected_at = datetime.combine(today, clock(2), UTC)
    rows = []
    for stream in plan.streams:
        row: dict[str, Any] = {
            "company": plan.company,
            "integration_id": plan.integration_id,
            "stream": stream,
            "last_attempt_at": collected_at,
            "last_success_at": collected_at,
            "last_collected_day": yesterday,
            "last_error": None,
            "last_error_at": None,
            "error_kind": None,
            "consecutive_failures": 0,
            "next_attempt_at": None,
            "run_id": f"bench-{yesterday.isoformat()}",
            "failed_check": None,
        }
        if plan.profile == "behind":
            last = yesterday - timedelta(days=5 + (index // 100) % 20)
            at = datetime.combine(last + timedelta(days=1), clock(2), UTC)
            row.update(last_collected_day=last, last_attempt_at=at, last_success_at=at)
        elif plan.profile == "paused":
            last = yesterday - timedelta(days=10)
            at = datetime.combine(last + timedelta(days=1), clock(2), UTC)
            row.update(last_collected_day=last, last_attempt_at=at, last_success_at=at)
        elif plan.profile == "failing" and stream == plan.failing_stream:
            last = yesterday - timedelta(days=1)
            success = datetime.combine(yesterday, clock(2), UTC)
            failures = 1 + (index // 100) % 6
            error_at = now - timedelta(minutes=25 * ((index // 100) % 4))
            auth = index % 200 == 2
            row.update(
                last_collected_day=last,
                last_success_at=success,
                last_attempt_at=error_at,
                last_error=AUTH_ERROR if auth else PROVIDER_ERROR,
                last_error_at=error_at,
                error_kind="auth" if auth else "provider",
                consecutive_failures=failures,
                next_attempt_at=error_at + backoff(failures),
                run_id=f"bench-failed-{index}",
            )
        rows.append(row)
    return rows


def _expect(
    plans: list[_Plan],
    health: dict[tuple[str, str], list[dict[str, Any]]],
    today: date,
    now: datetime,
    behind_days: int,
) -> dict[str, Expected]:
    counts: dict[str, Counter[str]] = {}
    yesterday = today - timedelta(days=1)
    for plan in plans:
        tally = counts.setdefault(plan.integration_id, Counter())
        tally["connections"] += 1
        if plan.profile == "paused":
            tally["paused"] += 1
            continue
        tally["collecting"] += 1
        rows = health.get((plan.company, plan.integration_id), [])
        if plan.profile == "never_collected":
            tally["never_collected"] += 1
            # Behind once it had ``behind_days`` to collect (health's onboarding grace): the ones connected 30 days ago.
            connected = now - (timedelta(days=30) if _index(plan.company) % 200 == 3 else timedelta(minutes=30))
            if (today - connected.date()).days > behind_days:
                tally["behind"] += 1
            continue
        if any((yesterday - row["last_collected_day"]).days > behind_days for row in rows):
            tally["behind"] += 1
        failing = [row for row in rows if row["last_error_at"] is not None]
        if failing:
            tally["failing"] += 1
            if any(row["error_kind"] == "auth" for row in failing):
                tally["needs_reauthorization"] += 1
            if any(row["next_attempt_at"] > now for row in failing):
                tally["backing_off"] += 1
    return {integration: Expected(**tally) for integration, tally in counts.items()}


def populate_hub(
    database_url: str,
    companies: int,
    *,
    days: int = 1095,
    today: date,
    karbon_share: float = 0.0,
    secrets_token: str | None = None,
    behind_days: int = 2,
    inventory_companies: int = 10,
    inventory_days: int = 7,
) -> LoadedFleet:
    """Load ``companies`` e-invoice connections (and Karbon for the first ``karbon_share`` of them), each with
    ``days`` days of history up to yesterday, into the migrated, connection-less hub database at ``database_url``.

    ``secrets_token`` (an already encrypted credential blob, e.g. ``SecretBox.encrypt(...)``) is stored on every
    connection when given, so runs can resolve credentials; ``behind_days`` is only what :class:`Expected` is
    judged with (``HUB_ALERT_BEHIND_DAYS``). The first ``inventory_companies`` healthy e-invoice companies get
    inventory rows for their last ``inventory_days`` days, as many per day as their coverage says.
    """
    started = time.perf_counter()
    if companies < 1 or days < 1:
        raise ValueError("companies and days must be positive")
    now = datetime.combine(today, clock(6), UTC)
    first_day = today - timedelta(days=days)
    karbon = round(companies * karbon_share)
    plans = list(_plans(companies, karbon))
    health = {(plan.company, plan.integration_id): _health_rows(plan, today, now) for plan in plans}
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        postgres = engine.dialect.name == "postgresql"
        with engine.begin() as conn:
            if conn.execute(select(func.count()).select_from(schema.connections)).scalar_one():
                raise RuntimeError("populate_hub needs a hub database without connections")
            conn.execute(insert(schema.connections), [_connection_row(p, first_day, now, secrets_token) for p in plans])
            health_rows = [row for rows in health.values() for row in rows]
            for index in range(0, len(health_rows), 5000):
                conn.execute(insert(schema.stream_health), health_rows[index : index + 5000])
            if postgres:
                _coverage_postgres(conn, today)
            else:
                _coverage_sqlite(conn, today)
            with_inventory = tuple(
                p.company for p in plans if p.integration_id == EINVOICE_INTEGRATION and p.profile == "healthy"
            )[:inventory_companies]
            first_inventory_day = today - timedelta(days=inventory_days)
            inventory_rows = _inventory(conn, with_inventory, first_inventory_day, now, postgres=postgres)
            coverage_rows = conn.execute(select(func.count()).select_from(schema.coverage)).scalar_one()
        if postgres:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE hub_coverage, hub_stream_health, hub_connections, hub_inventory"))
    finally:
        engine.dispose()
    profiles: dict[str, list[str]] = {}
    for plan in plans:
        if plan.integration_id == EINVOICE_INTEGRATION:
            profiles.setdefault(plan.profile, []).append(plan.company)
    return LoadedFleet(
        database_url=database_url,
        today=today,
        now=now,
        first_day=first_day,
        days=days,
        companies=tuple(company_name(i) for i in range(companies)),
        einvoice_integration=EINVOICE_INTEGRATION,
        karbon_companies=tuple(company_name(i) for i in range(karbon)),
        connections=len(plans),
        coverage_rows=coverage_rows,
        health_rows=len(health_rows),
        inventory_rows=inventory_rows,
        inventory_companies=with_inventory,
        inventory_days=inventory_days,
        behind_days=behind_days,
        expected=_expect(plans, health, today, now, behind_days),
        profiles={name: tuple(values) for name, values in profiles.items()},
        seconds=time.perf_counter() - started,
    )


# Collected days: the connection's start date up to the stream's newest collected day; failed days: after it, up
# to yesterday, for the streams whose latest attempt failed. Same expressions as :func:`rows_on`.
_PG_COVERAGE = """
INSERT INTO hub_coverage (company, integration_id, stream, day, status, rows, collected_at, attempted_at, run_id, error)
SELECT h.company, h.integration_id, h.stream, d.day, 'collected',
       ((c.id * 31 + (d.day - DATE '2000-01-01')) % 23)::int,
       (d.day + TIME '02:00' + INTERVAL '1 day') AT TIME ZONE 'UTC',
       (d.day + TIME '02:00' + INTERVAL '1 day') AT TIME ZONE 'UTC',
       'bench-' || to_char(d.day, 'YYYY-MM'), NULL
FROM hub_stream_health h
JOIN hub_connections c ON c.company = h.company AND c.integration_id = h.integration_id
CROSS JOIN LATERAL (
    SELECT g::date AS day FROM generate_series(c.start_date, h.last_collected_day, INTERVAL '1 day') g
) d
WHERE h.last_collected_day IS NOT NULL
"""
_PG_FAILED = """
INSERT INTO hub_coverage (company, integration_id, stream, day, status, rows, collected_at, attempted_at, run_id, error)
SELECT h.company, h.integration_id, h.stream, g::date, 'failed', 0, NULL, h.last_error_at, h.run_id, h.last_error
FROM hub_stream_health h
CROSS JOIN LATERAL generate_series(h.last_collected_day + 1, :yesterday, INTERVAL '1 day') g
WHERE h.last_error_at IS NOT NULL
"""


def _coverage_postgres(conn: Connection, today: date) -> None:
    """Bulk coverage with the primary key dropped during the load and rebuilt once (a sorted build, not 11 M
    index insertions)."""
    conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    conn.execute(text("SET LOCAL synchronous_commit = off"))
    conn.execute(text("ALTER TABLE hub_coverage DROP CONSTRAINT pk_hub_coverage"))
    conn.execute(text(_PG_COVERAGE))
    conn.execute(text(_PG_FAILED), {"yesterday": today - timedelta(days=1)})
    conn.execute(
        text(
            "ALTER TABLE hub_coverage ADD CONSTRAINT pk_hub_coverage PRIMARY KEY (company, integration_id, stream, day)"
        )
    )


# SQLite: the same rows by a recursive CTE over the days (dates and times in the text forms SQLAlchemy stores).
_SQLITE_COVERAGE = """
WITH RECURSIVE d(company, integration_id, stream, connection_id, day, last) AS (
    SELECT h.company, h.integration_id, h.stream, c.id, c.start_date, h.last_collected_day
    FROM hub_stream_health h
    JOIN hub_connections c ON c.company = h.company AND c.integration_id = h.integration_id
    WHERE h.last_collected_day IS NOT NULL AND c.start_date <= h.last_collected_day
    UNION ALL
    SELECT company, integration_id, stream, connection_id, date(day, '+1 day'), last FROM d WHERE day < last
)
INSERT INTO hub_coverage (company, integration_id, stream, day, status, rows, collected_at, attempted_at, run_id, error)
SELECT company, integration_id, stream, day, 'collected',
       (connection_id * 31 + CAST(julianday(day) - julianday('2000-01-01') AS INTEGER)) % 23,
       strftime('%Y-%m-%d 02:00:00.000000', day, '+1 day'), strftime('%Y-%m-%d 02:00:00.000000', day, '+1 day'),
       'bench-' || strftime('%Y-%m', day), NULL
FROM d
"""
_SQLITE_FAILED = """
WITH RECURSIVE d(company, integration_id, stream, day, attempted_at, run_id, error) AS (
    SELECT company, integration_id, stream, date(last_collected_day, '+1 day'), last_error_at, run_id, last_error
    FROM hub_stream_health WHERE last_error_at IS NOT NULL AND last_collected_day < :yesterday
    UNION ALL
    SELECT company, integration_id, stream, date(day, '+1 day'), attempted_at, run_id, error FROM d
    WHERE day < :yesterday
)
INSERT INTO hub_coverage (company, integration_id, stream, day, status, rows, collected_at, attempted_at, run_id, error)
SELECT company, integration_id, stream, day, 'failed', 0, NULL, attempted_at, run_id, error FROM d
"""


def _coverage_sqlite(conn: Connection, today: date) -> None:
    conn.execute(text(_SQLITE_COVERAGE))
    conn.execute(text(_SQLITE_FAILED), {"yesterday": (today - timedelta(days=1)).isoformat()})


# Invoice rows for some companies' last days, as many per day as their coverage says (PostgreSQL in SQL).
_PG_INVENTORY = """
INSERT INTO hub_inventory (company, integration_id, stream, partition_date, record_type, external_key, record_date,
                           amount, currency, counterparty, payload, collected_at, run_id)
SELECT v.company, v.integration_id, v.stream, v.day, 'invoice',
       v.company || '-' || to_char(v.day, 'YYYY-MM-DD') || '-' || lpad(n::text, 4, '0'), v.day,
       100.00, 'TRY', 'Bench Tedarik A.Ş.', jsonb_build_object('direction', 'incoming', 'number', n),
       v.collected_at, v.run_id
FROM hub_coverage v CROSS JOIN LATERAL generate_series(0, v.rows - 1) n
WHERE v.integration_id = :integration AND v.company = ANY(:companies) AND v.day >= :first AND v.status = 'collected'
"""


def _inventory(conn: Connection, companies: tuple[str, ...], first: date, now: datetime, *, postgres: bool) -> int:
    """Invoice rows for ``companies`` from ``first`` on, as many per day as their coverage says."""
    if not companies:
        return 0
    if postgres:
        result = conn.execute(
            text(_PG_INVENTORY), {"integration": EINVOICE_INTEGRATION, "companies": list(companies), "first": first}
        )
        return result.rowcount
    cov = schema.coverage
    days = conn.execute(
        select(cov.c.company, cov.c.day, cov.c.rows, cov.c.collected_at, cov.c.run_id).where(
            cov.c.integration_id == EINVOICE_INTEGRATION,
            cov.c.company.in_(companies),
            cov.c.day >= first,
            cov.c.status == "collected",
        )
    ).all()
    rows = [
        {
            "company": company,
            "integration_id": EINVOICE_INTEGRATION,
            "stream": "invoices",
            "partition_date": day,
            "record_type": "invoice",
            "external_key": f"{company}-{day.isoformat()}-{number:04d}",
            "record_date": day,
            "amount": "100.00",
            "currency": "TRY",
            "counterparty": "Bench Tedarik A.Ş.",
            "payload": {"direction": "incoming", "number": number},
            "collected_at": collected_at or now,
            "run_id": run_id,
        }
        for company, day, count, collected_at, run_id in days
        for number in range(count)
    ]
    for index in range(0, len(rows), 5000):
        conn.execute(insert(schema.inventory), rows[index : index + 5000])
    return len(rows)


def main() -> None:
    """``python -m bench.fleet_data URL COMPANIES [DAYS]``: load a fleet into a database and print what it holds."""
    import sys

    url, count = sys.argv[1], int(sys.argv[2])
    loaded = populate_hub(
        url, count, days=int(sys.argv[3]) if len(sys.argv) > 3 else 1095, today=datetime.now(UTC).date()
    )
    print(
        f"{loaded.connections} connections, {loaded.coverage_rows:,} coverage rows, {loaded.health_rows} "
        f"health rows, {loaded.inventory_rows} inventory rows in {loaded.seconds:.1f} s"
    )
    for integration, expected in loaded.expected.items():
        print(integration, expected)


if __name__ == "__main__":
    main()
