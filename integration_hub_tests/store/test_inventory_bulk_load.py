"""The inventory's bulk-load encodings: the COPY text stream (PostgreSQL) and the pre-bound parameter tuples
(SQLite) keep every value exact, whatever characters it holds, and store what SQLAlchemy's column types store."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, select

from integration_hub.connectors.base import DateWindow, Record
from integration_hub.store import Store, inventory, schema
from integration_hub.store.database import make_engine, upgrade

WINDOW = DateWindow(date(2024, 3, 1), date(2024, 3, 4))
AWKWARD = 'back\\slash \\N tab\t newline\n cr\r quote " comma , ünicode ş 😀'


def _records() -> list[Record]:
    return [
        Record(
            record_type="invoice",
            external_key=f"key\\{day}\t{index}",
            record_date=date(2024, 3, day),
            amount=Decimal("-12.50") if index else None,
            currency="USD",
            quantity=Decimal("1E+3") if index else None,
            unit="h",
            counterparty=AWKWARD,
            description=AWKWARD if index else "\\N",
            payload={"text": AWKWARD, "at": datetime(2024, 3, 1, 2, 3, 4, tzinfo=UTC), "n": [1, 2.5, None, True]},
        )
        # Keys in reverse order: each batch is sorted before it is spooled.
        for day in (3, 2, 1)
        for index in (1, 0)
    ]


def _write(engine: Engine) -> inventory.WriteResult:
    return inventory.replace_window(
        engine,
        company="acme",
        integration_id="karbon",
        stream="time",
        window=WINDOW,
        records=iter(_records()),
        run_id="run-7",
        batch_size=4,
    )


def test_awkward_characters_round_trip_exactly(store: Store) -> None:
    result = _write(store.engine)
    assert result.rows_per_day == {date(2024, 3, 1): 2, date(2024, 3, 2): 2, date(2024, 3, 3): 2}
    assert result.records_by_type == {"invoice": 6}
    t = schema.inventory
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.partition_date, t.c.external_key))]
    assert [r["external_key"] for r in rows] == [f"key\\{day}\t{index}" for day in (1, 2, 3) for index in (0, 1)]
    assert [r["description"] for r in rows] == ["\\N", AWKWARD] * 3
    assert [r["amount"] for r in rows] == [None, Decimal("-12.50")] * 3
    assert [r["quantity"] for r in rows] == [None, Decimal("1E+3")] * 3
    assert {r["counterparty"] for r in rows} == {AWKWARD}
    assert {r["run_id"] for r in rows} == {"run-7"}
    assert rows[0]["payload"] == {"text": AWKWARD, "at": "2024-03-01T02:03:04+00:00", "n": [1, 2.5, None, True]}
    assert len({r["collected_at"] for r in rows}) == 1


def test_sqlite_stores_what_the_column_types_bind(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(engine)
    _write(engine)
    engine.dispose()
    with contextlib.closing(sqlite3.connect(tmp_path / "hub.db")) as raw:
        row = raw.execute(
            "SELECT partition_date, record_date, amount, typeof(amount), quantity, payload, collected_at "
            "FROM hub_inventory WHERE partition_date = '2024-03-01' AND amount IS NOT NULL"
        ).fetchone()
    assert row[:5] == ("2024-03-01", "2024-03-01", "-12.50", "text", "1E+3")
    # SQLAlchemy's JSON type on SQLite: json.dumps defaults (ASCII escapes, ", " and ": " separators).
    assert row[5] == (
        '{"text": "back\\\\slash \\\\N tab\\t newline\\n cr\\r quote \\" comma , \\u00fcnicode \\u015f '
        '\\ud83d\\ude00", "at": "2024-03-01T02:03:04+00:00", "n": [1, 2.5, null, true]}'
    )
    # SQLite's DATETIME format: microseconds, no offset (written as UTC).
    assert len(row[6]) == 26 and row[6][10] == " " and "+" not in row[6]
