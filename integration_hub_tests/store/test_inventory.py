"""The data inventory on SQLite and PostgreSQL: exact decimals, partition replacement in one transaction,
refusal of out-of-window and duplicated records (changing nothing), and the summary queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from integration_hub.cli import app
from integration_hub.connectors.base import DateWindow, Record
from integration_hub.store import Store, inventory, schema

WINDOW = DateWindow(date(2024, 3, 1), date(2024, 3, 4))


def _records(days: int = 3, per_day: int = 2, amount: str = "1234567890123.12345678") -> list[Record]:
    return [
        Record(
            record_type="invoice",
            external_key=f"k-{d}-{i}",
            record_date=WINDOW.start + timedelta(days=d),
            amount=Decimal(amount),
            currency="TRY",
            quantity=Decimal("0.001"),
            unit="KWH",
            counterparty="Ünlü Enerji A.Ş.",
            description='quote " comma , newline \n tab \t',
            payload={"total": Decimal("10.10"), "when": date(2024, 3, 1), "nested": {"ok": True}},
        )
        for d in range(days)
        for i in range(per_day)
    ]


def _write(store: Store, records, window: DateWindow = WINDOW, run_id: str = "run-1") -> inventory.WriteResult:
    return inventory.replace_window(
        store.engine,
        company="acme",
        integration_id="uyumsoft",
        stream="invoices",
        window=window,
        records=iter(records),
        run_id=run_id,
        batch_size=3,
    )


def _all(store: Store) -> list[dict]:
    t = schema.inventory
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.external_key))]


def test_bulk_write_round_trips_exact_values(store: Store) -> None:
    result = _write(store, _records())
    assert result.rows_per_day == {date(2024, 3, 1): 2, date(2024, 3, 2): 2, date(2024, 3, 3): 2}
    rows = _all(store)
    assert len(rows) == 6
    first = rows[0]
    assert first["amount"] == Decimal("1234567890123.12345678")
    assert first["quantity"] == Decimal("0.001")
    assert first["counterparty"] == "Ünlü Enerji A.Ş."
    assert first["description"] == 'quote " comma , newline \n tab \t'
    assert first["payload"] == {"total": "10.10", "when": "2024-03-01", "nested": {"ok": True}}
    assert first["partition_date"] == first["record_date"] == date(2024, 3, 1)
    assert first["run_id"] == "run-1"


def test_rewrite_replaces_exactly_the_window(store: Store) -> None:
    _write(store, _records())
    later = DateWindow(date(2024, 3, 3), date(2024, 3, 5))
    _write(store, [Record("invoice", "late", date(2024, 3, 4))], window=DateWindow(date(2024, 3, 4), date(2024, 3, 5)))
    _write(store, [Record("invoice", "only", date(2024, 3, 3))], window=later, run_id="run-2")
    keys = [(r["partition_date"].day, r["external_key"]) for r in _all(store)]
    # 1st and 2nd untouched, the 3rd and 4th replaced by the second write of that window.
    assert sorted(keys) == [(1, "k-0-0"), (1, "k-0-1"), (2, "k-1-0"), (2, "k-1-1"), (3, "only")]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([Record("invoice", "outside", date(2024, 3, 9))], "is outside the window"),
        (
            [Record("invoice", "twice", date(2024, 3, 2)), Record("invoice", "twice", date(2024, 3, 2))],
            "same record key twice",
        ),
    ],
)
def test_bad_records_change_nothing(store: Store, bad: list[Record], message: str) -> None:
    _write(store, _records())
    before = _all(store)
    with pytest.raises(inventory.InventoryError, match=message):
        _write(store, [*_records(amount="1"), *bad], run_id="run-bad")
    assert _all(store) == before


def test_a_failing_record_stream_writes_nothing(store: Store) -> None:
    _write(store, _records())
    before = _all(store)

    def broken():
        yield from _records(amount="2")
        raise RuntimeError("page 3 failed")

    with pytest.raises(RuntimeError):
        _write(store, broken())
    assert _all(store) == before


def test_many_rows_in_batches(store: Store) -> None:
    window = DateWindow(date(2024, 1, 1), date(2024, 2, 1))
    records = (Record("time_entry", f"{day}-{i}", day, amount=Decimal(i)) for day in window.days() for i in range(300))
    result = inventory.replace_window(
        store.engine,
        company="acme",
        integration_id="karbon",
        stream="time",
        window=window,
        records=records,
        run_id="r",
        batch_size=1000,
    )
    assert result.total == 31 * 300
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(schema.inventory)).scalar_one()
        summed = conn.execute(select(func.sum(schema.inventory.c.amount))).scalar_one()
    assert total == 9300
    assert Decimal(str(summed)) == Decimal(31 * sum(range(300)))


def test_inventory_cli_summarizes_per_day(store: Store, hub_env) -> None:
    _write(store, _records())
    runner = CliRunner()
    result = runner.invoke(app, ["inventory", "--json", "--from", "2024-03-02"], env=hub_env)
    assert result.exit_code == 0, result.output
    import json

    rows = json.loads(result.stdout)
    assert [(r["company"], r["integration_id"], r["stream"], r["partition_date"], r["rows"]) for r in rows] == [
        ("acme", "uyumsoft", "invoices", "2024-03-02", 2),
        ("acme", "uyumsoft", "invoices", "2024-03-03", 2),
    ]
    table = runner.invoke(app, ["inventory", "--company", "acme"], env=hub_env)
    assert "6 row(s) in 3 partition(s)" in table.stdout
    bad = runner.invoke(app, ["inventory", "--from", "2024-03-05", "--to", "2024-03-01"], env=hub_env)
    assert bad.exit_code == 2 and "--to is before --from" in bad.stderr
    overview = json.loads(runner.invoke(app, ["overview", "--json"], env=hub_env).stdout)
    assert overview["total_rows_collected"] == 6
