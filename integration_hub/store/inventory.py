"""The data inventory: normalized records per (company, integration, stream, day).

Writes are idempotent per partition: a window's rows are replaced in *one short transaction*, so a
re-run gives the same rows and a failed run leaves the previous rows untouched. While a connector is
still fetching, records are spooled to a local temporary file in batches (bounded memory, and no
database lock held during slow network I/O, which matters for SQLite's single writer). The commit then
bulk-loads the spool with each database's fast path: ``COPY`` on PostgreSQL, ``executemany`` in one
transaction on SQLite.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, select

from integration_hub.connectors.base import DateWindow, Record
from integration_hub.store import schema
from integration_hub.store.database import utcnow

t = schema.inventory
BATCH_SIZE = 5000
COLUMNS = (
    "company",
    "integration_id",
    "stream",
    "partition_date",
    "record_type",
    "external_key",
    "record_date",
    "amount",
    "currency",
    "quantity",
    "unit",
    "counterparty",
    "description",
    "payload",
    "collected_at",
    "run_id",
)


class InventoryError(RuntimeError):
    """A record cannot be written (outside its window, duplicated key, ...). One line."""


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"payload value of type {type(value).__name__} is not JSON-serializable")


def _clip(value: str | None, length: int) -> str | None:
    if value is None or value == "":
        return None
    return value if len(value) <= length else value[: length - 1] + "…"


@dataclass
class WriteResult:
    rows_per_day: dict[date, int] = field(default_factory=dict)
    records_by_type: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows_per_day.values())


class _Spool:
    """Batches of row dicts pickled to an anonymous temporary file (our own data, read back once)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.batches = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        pickle.dump(rows, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.batches += 1

    def read(self) -> Iterator[list[dict[str, Any]]]:
        self._file.seek(0)
        for _ in range(self.batches):
            yield pickle.load(self._file)  # noqa: S301 - a file this process just wrote

    def close(self) -> None:
        self._file.close()


def replace_window(
    engine: Engine,
    *,
    company: str,
    integration_id: str,
    stream: str,
    window: DateWindow,
    records: Iterable[Record],
    run_id: str | None,
    batch_size: int = BATCH_SIZE,
) -> WriteResult:
    """Replace every row of (company, integration, stream) in ``window`` with ``records``.

    ``records`` is consumed fully *before* the database is touched; if it raises, nothing is written.
    Each record's ``record_date`` must lie inside the window (it decides the partition). A record key
    repeated within one partition is refused: it would be a lost or duplicated row.
    """
    collected_at = utcnow()
    result = WriteResult()
    by_type: Counter[str] = Counter()
    per_day: Counter[date] = Counter()
    spool = _Spool()
    try:
        batch: list[dict[str, Any]] = []
        for record in records:
            if record.record_date not in window:
                raise InventoryError(
                    f"{integration_id}/{stream}: record {record.record_type} {record.external_key} dated "
                    f"{record.record_date} is outside the window {window}"
                )
            batch.append(_row(record, company, integration_id, stream, collected_at, run_id))
            per_day[record.record_date] += 1
            by_type[record.record_type] += 1
            if len(batch) >= batch_size:
                spool.write(batch)
                batch = []
        if batch:
            spool.write(batch)
        with engine.begin() as conn:
            conn.execute(delete(t).where(*_window_filter(company, integration_id, stream, window)))
            try:
                if conn.dialect.name == "postgresql":
                    _copy_postgres(conn, spool.read())
                else:
                    for rows in spool.read():
                        conn.execute(t.insert(), rows)
            except Exception as exc:
                if "record_key" in str(exc) or "UNIQUE constraint" in str(exc):
                    raise InventoryError(
                        f"{integration_id}/{stream}: the connector returned the same record key twice for one "
                        f"day in {window}; nothing was written"
                    ) from None
                raise
    finally:
        spool.close()
    result.rows_per_day = {day: per_day.get(day, 0) for day in window.days()}
    result.records_by_type = dict(by_type)
    return result


def _row(
    record: Record, company: str, integration_id: str, stream: str, collected_at: datetime, run_id: str | None
) -> dict[str, Any]:
    return {
        "company": company,
        "integration_id": integration_id,
        "stream": stream,
        "partition_date": record.record_date,
        "record_type": record.record_type,
        "external_key": record.external_key,
        "record_date": record.record_date,
        "amount": record.amount,
        "currency": _clip(record.currency, 8),
        "quantity": record.quantity,
        "unit": _clip(record.unit, 32),
        "counterparty": _clip(record.counterparty, 512),
        "description": record.description or None,
        "payload": json.loads(json.dumps(dict(record.payload), default=_json_default)),
        "collected_at": collected_at,
        "run_id": run_id,
    }


def _copy_postgres(conn: Connection, batches: Iterator[list[dict[str, Any]]]) -> None:
    """``COPY ... FROM STDIN (FORMAT csv)`` per batch on the transaction's own DBAPI connection."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    statement = f"COPY {t.name} ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
    with raw.cursor() as cursor:
        for rows in batches:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for row in rows:
                writer.writerow([_csv_value(name, row[name]) for name in COLUMNS])
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)


def _csv_value(name: str, value: Any) -> Any:
    if value is None:
        return None  # csv writes an unquoted empty field: NULL in COPY's csv format
    if name == "payload":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# ------------------------------------------------------------------------------------------ queries
def rows_per_integration(conn: Connection) -> dict[str, int]:
    query = select(t.c.integration_id, func.count()).group_by(t.c.integration_id)
    return {integration: count for integration, count in conn.execute(query)}


def _window_filter(company: str, integration_id: str, stream: str, window: DateWindow) -> list:
    return [
        t.c.company == company,
        t.c.integration_id == integration_id,
        t.c.stream == stream,
        t.c.partition_date >= window.start,
        t.c.partition_date < window.end,
    ]


def duplicate_key_count(conn: Connection, *, company: str, integration_id: str, stream: str, window: DateWindow) -> int:
    """How many (day, record type, key) appear more than once in the window's partitions."""
    grouped = (
        select(t.c.partition_date, t.c.record_type, t.c.external_key)
        .where(*_window_filter(company, integration_id, stream, window))
        .group_by(t.c.partition_date, t.c.record_type, t.c.external_key)
        .having(func.count() > 1)
        .subquery()
    )
    return conn.execute(select(func.count()).select_from(grouped)).scalar_one()


PREVIEW_COLUMNS = (
    "record_date",
    "record_type",
    "external_key",
    "amount",
    "currency",
    "quantity",
    "unit",
    "counterparty",
    "description",
)


def preview(
    conn: Connection, *, company: str, integration_id: str, stream: str, window: DateWindow, limit: int = 5
) -> list[dict[str, Any]]:
    """A few normalized rows of a window (never the raw payload) for run metadata."""
    query = (
        select(*[t.c[name] for name in PREVIEW_COLUMNS])
        .where(*_window_filter(company, integration_id, stream, window))
        .order_by(t.c.partition_date, t.c.record_type, t.c.external_key)
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def count_window(conn: Connection, *, company: str, integration_id: str, stream: str, window: DateWindow) -> dict:
    """Rows per record type in a window."""
    query = (
        select(t.c.record_type, func.count())
        .where(*_window_filter(company, integration_id, stream, window))
        .group_by(t.c.record_type)
    )
    return {record_type: count for record_type, count in conn.execute(query)}


def summary(
    conn: Connection,
    *,
    company: str | None = None,
    integration_id: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[dict[str, Any]]:
    """Rows per company, integration, stream and day (the ``inventory`` command)."""
    conditions = []
    if company:
        conditions.append(t.c.company == company)
    if integration_id:
        conditions.append(t.c.integration_id == integration_id)
    if first:
        conditions.append(t.c.partition_date >= first)
    if last:
        conditions.append(t.c.partition_date <= last)
    query = (
        select(
            t.c.company,
            t.c.integration_id,
            t.c.stream,
            t.c.partition_date,
            func.count().label("rows"),
            func.max(t.c.collected_at).label("collected_at"),
        )
        .where(and_(True, *conditions))
        .group_by(t.c.company, t.c.integration_id, t.c.stream, t.c.partition_date)
        .order_by(t.c.company, t.c.integration_id, t.c.stream, t.c.partition_date)
    )
    return [dict(row._mapping) for row in conn.execute(query)]
