"""The benchmarks' bulk-loaded fleet (``bench/fleet_data.py``) is what the hub's own writes would have left: the
fleet summary counts exactly the profiles it planted, and coverage agrees with the health rows, on both databases."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta

from bench.fleet_data import populate_hub, rows_on
from integration_hub.assets.streams import stream_names
from integration_hub.service.fleet import connection_coverage, fleet_summary
from integration_hub.store import Store

TODAY = date(2026, 6, 15)


def test_the_summary_of_a_loaded_fleet_counts_what_was_planted(store: Store) -> None:
    loaded = populate_hub(store.settings.database_url, 260, days=40, today=TODAY, karbon_share=0.25)
    assert loaded.connections == 260 + 65
    summary = fleet_summary(store, stream_names(), today=TODAY, now=loaded.now)
    counted = {
        i.integration_id: {k: v for k, v in asdict(i).items() if k in asdict(loaded.expected[i.integration_id])}
        for i in summary.integrations
    }
    assert counted == {name: asdict(expected) for name, expected in loaded.expected.items()}
    assert loaded.expected["uyumsoft"].failing == 3 and loaded.expected["uyumsoft"].never_collected == 3
    assert loaded.expected["karbon"].behind == 1  # the Karbon profiles are shifted by 50 companies


def test_loaded_coverage_matches_health_day_by_day(store: Store) -> None:
    loaded = populate_hub(store.settings.database_url, 110, days=30, today=TODAY)
    yesterday = TODAY - timedelta(days=1)

    def days(company: str) -> list[tuple[str, int]]:
        answer = connection_coverage(
            store, stream_names(), company=company, integration_id="uyumsoft", first=loaded.first_day, last=yesterday
        )
        return [(d.status, d.rows) for d in answer.days]

    healthy, failing = loaded.profiles["healthy"][0], loaded.profiles["failing"][0]
    assert [status for status, _ in days(healthy)] == ["collected"] * 30
    assert sum(rows for _, rows in days(healthy)) > 0
    assert [status for status, _ in days(failing)][-2:] == ["collected", "failed"]
    assert {status for status, _ in days(loaded.profiles["never_collected"][0])} == {"never collected"}
    with store.engine.connect() as conn:
        from integration_hub.store import inventory

        per_day = inventory.summary(conn, company=loaded.inventory_companies[0], integration_id="uyumsoft")
        connection_id = conn.exec_driver_sql(
            "SELECT id FROM hub_connections WHERE company = ? AND integration_id = 'uyumsoft'"
            if store.engine.dialect.name == "sqlite"
            else "SELECT id FROM hub_connections WHERE company = %s AND integration_id = 'uyumsoft'",
            (loaded.inventory_companies[0],),
        ).scalar_one()
    assert per_day and all(row["rows"] == rows_on(connection_id, row["partition_date"]) for row in per_day)
