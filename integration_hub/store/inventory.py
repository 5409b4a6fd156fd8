"""The data inventory: normalized records per (company, integration, stream, day).

Writes are idempotent per partition: a window's rows are replaced in *one short transaction*, so a
re-run gives the same rows and a failed run leaves the previous rows untouched. While a connector is
still fetching, records are spooled to a local temporary file in batches (bounded memory, and no
database lock held during slow network I/O, which matters for SQLite's single writer). The commit then
bulk-loads the spool with each database's fast path: ``COPY`` on PostgreSQL, ``executemany`` in one
transaction on SQLite.

Speed comes from doing each record's work once, while spooling, in the form the database takes it: the
PostgreSQL spool *is* the ``COPY`` text stream (the commit hands the file to ``copy_expert``), the SQLite
spool holds the exact DBAPI values SQLAlchemy's column types would bind (dates, ``ExactDecimal`` text,
payload JSON), inserted with one prepared statement on the raw cursor. Per-row ORM/Core handling and a
JSON round trip per record cost ~5x the throughput.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import IO, Any

from sqlalchemy import Connection, Engine, and_, delete, func, select
from sqlalchemy.engine import Dialect

from integration_hub.connectors.base import DateWindow, Record
from integration_hub.store import coverage, schema
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
# partition_date, record_type, external_key of a parameter tuple (see COLUMNS).
_SORT_KEY = itemgetter(3, 4, 5)
# psycopg2 reads the spool in chunks of this size while COPY streams it (bounded memory).
COPY_CHUNK = 1 << 20


class InventoryError(RuntimeError):
    """A record cannot be written (outside its window, duplicated key, ...). One line."""


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"payload value of type {type(value).__name__} is not JSON-serializable")


# One encoder each, built once: ``json.dumps(..., default=...)`` would build a new encoder per record.
# ASCII-escaped JSON is what SQLAlchemy's JSON type stores on SQLite (``json.dumps`` defaults); PostgreSQL
# parses the text into JSONB, so raw UTF-8 there keeps the COPY stream short and free of backslashes.
_SQLITE_JSON = json.JSONEncoder(default=_json_default).encode
_COPY_JSON = json.JSONEncoder(default=_json_default, ensure_ascii=False).encode


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
    """Batches of encoded rows in an anonymous temporary file (our own data, read back once).

    ``copy_text`` spools a PostgreSQL ``COPY`` stream (batches of lines, UTF-8); otherwise each batch is a
    pickled list of parameter tuples.
    """

    def __init__(self, *, copy_text: bool) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._copy_text = copy_text
        self.batches = 0

    def write(self, batch: list[Any]) -> None:
        """Spool one batch, sorted by partition and key first.

        The order rows reach the database in is free (nothing reads the inventory by id), and a batch that
        walks the unique index in order touches each index page once instead of jumping between days on
        every row: ~1.7x faster inserts on SQLite, whose page cache is small, and a little on PostgreSQL.
        """
        # COPY lines start with the constant columns, then day, record type and key. A key of an odd type
        # (TypeError) is left unsorted for the database to refuse or store, as before.
        with contextlib.suppress(TypeError):
            batch.sort(key=None if self._copy_text else _SORT_KEY)
        if self._copy_text:
            self._file.write("".join(batch).encode("utf-8"))
        else:
            pickle.dump(batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.batches += 1

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Every spooled parameter tuple, one batch in memory at a time."""
        self._file.seek(0)
        for _ in range(self.batches):
            yield from pickle.load(self._file)  # noqa: S301 - a file this process just wrote

    def stream(self) -> IO[bytes]:
        """The spooled COPY text, rewound, for ``copy_expert`` to read in chunks."""
        self._file.seek(0)
        return self._file

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
    dialect = engine.dialect  # known without connecting: the spool is encoded for its database
    postgres = dialect.name == "postgresql"
    encoder = _copy_encoder if postgres else _sqlite_encoder
    encode = encoder(dialect, company, integration_id, stream, collected_at, run_id)
    result = WriteResult()
    by_type: Counter[str] = Counter()
    per_day: Counter[date] = Counter()
    spool = _Spool(copy_text=postgres)
    try:
        batch: list[Any] = []
        append = batch.append
        for record in records:
            day = record.record_date
            if day not in window:
                raise InventoryError(
                    f"{integration_id}/{stream}: record {record.record_type} {record.external_key} dated "
                    f"{day} is outside the window {window}"
                )
            append(encode(record))
            per_day[day] += 1
            by_type[record.record_type] += 1
            if len(batch) >= batch_size:
                spool.write(batch)
                batch.clear()
        if batch:
            spool.write(batch)
        result.rows_per_day = {day: per_day.get(day, 0) for day in window.days()}
        result.records_by_type = dict(by_type)
        with engine.begin() as conn:
            conn.execute(delete(t).where(*_window_filter(company, integration_id, stream, window)))
            try:
                if postgres:
                    _copy_postgres(conn, spool.stream())
                else:
                    _insert_sqlite(conn, spool.rows())
            except Exception as exc:
                if "record_key" in str(exc) or "UNIQUE constraint" in str(exc):
                    raise InventoryError(
                        f"{integration_id}/{stream}: the connector returned the same record key twice for one "
                        f"day in {window}; nothing was written"
                    ) from None
                raise
            # Same transaction: the coverage of every day of the window (empty ones too) can never disagree
            # with the rows it describes.
            coverage.record_collected(
                conn,
                company=company,
                integration_id=integration_id,
                stream=stream,
                rows_per_day=result.rows_per_day,
                run_id=run_id,
                now=collected_at,
            )
    finally:
        spool.close()
    return result


def _payload(record: Record) -> dict[str, Any]:
    payload = record.payload
    return payload if type(payload) is dict else dict(payload)


# ------------------------------------------------------------------------------------------ SQLite
def _sqlite_encoder(
    dialect: Dialect, company: str, integration_id: str, stream: str, collected_at: datetime, run_id: str | None
) -> Callable[[Record], tuple[Any, ...]]:
    """A record -> the DBAPI parameters SQLAlchemy's column types would bind, in ``COLUMNS`` order.

    The common types take a fast path with the same result (``date.isoformat`` is SQLite's DATE format,
    ``str`` of a Decimal is ``ExactDecimal``'s TEXT); anything else goes through the column type's own bind
    processor, so stored values stay identical to what SQLAlchemy wrote before.
    """
    bind_date = _bind_processor("record_date", dialect)
    bind_decimal = _bind_processor("amount", dialect)
    stored_at = _bind_processor("collected_at", dialect)(collected_at)

    def encode(record: Record) -> tuple[Any, ...]:
        day = record.record_date
        day = day.isoformat() if type(day) is date else bind_date(day)
        amount = record.amount
        if amount is not None:
            amount = str(amount) if type(amount) is Decimal else bind_decimal(amount)
        quantity = record.quantity
        if quantity is not None:
            quantity = str(quantity) if type(quantity) is Decimal else bind_decimal(quantity)
        return (
            company,
            integration_id,
            stream,
            day,
            record.record_type,
            record.external_key,
            day,
            amount,
            _clip(record.currency, 8),
            quantity,
            _clip(record.unit, 32),
            _clip(record.counterparty, 512),
            record.description or None,
            _SQLITE_JSON(_payload(record)),  # what the JSON type stores: make_engine sets no serializer
            stored_at,
            run_id,
        )

    return encode


def _bind_processor(column: str, dialect: Dialect) -> Callable[[Any], Any]:
    processor = t.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None, column
    return processor


def _insert_sqlite(conn: Connection, rows: Iterator[tuple[Any, ...]]) -> None:
    """One prepared INSERT run by the driver over every spooled row, on the transaction's connection."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    statement = f"INSERT INTO {t.name} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    cursor = raw.cursor()
    try:
        cursor.executemany(statement, rows)
    finally:
        cursor.close()


# ------------------------------------------------------------------------------------------ PostgreSQL
# COPY's text format: tab-separated, ``\N`` for NULL, backslash escapes for these four characters.
def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    text = value if type(value) is str else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_encoder(
    dialect: Dialect, company: str, integration_id: str, stream: str, collected_at: datetime, run_id: str | None
) -> Callable[[Record], str]:
    """A record -> one line of ``COPY ... FROM STDIN`` text, columns in ``COLUMNS`` order."""
    head = "\t".join(_copy_text(value) for value in (company, integration_id, stream)) + "\t"
    tail = "\t" + _copy_text(collected_at.isoformat()) + "\t" + _copy_text(run_id) + "\n"
    text = _copy_text

    def encode(record: Record) -> str:
        day = record.record_date.isoformat()
        amount = record.amount
        quantity = record.quantity
        payload = _COPY_JSON(_payload(record))
        if "\\" in payload:  # JSON escapes every tab, newline and CR itself: only backslashes need doubling
            payload = payload.replace("\\", "\\\\")
        return "\t".join(
            (
                head + day,
                text(record.record_type),
                text(record.external_key),
                day,
                str(amount) if type(amount) is Decimal else text(amount),
                text(_clip(record.currency, 8)),
                str(quantity) if type(quantity) is Decimal else text(quantity),
                text(_clip(record.unit, 32)),
                text(_clip(record.counterparty, 512)),
                text(record.description or None),
                payload + tail,
            )
        )

    return encode


def _copy_postgres(conn: Connection, spool: IO[bytes]) -> None:
    """One ``COPY ... FROM STDIN`` streaming the spool file on the transaction's own DBAPI connection."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    statement = f"COPY {t.name} ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT text, ENCODING 'UTF8')"
    with raw.cursor() as cursor:
        cursor.copy_expert(statement, spool, size=COPY_CHUNK)


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
