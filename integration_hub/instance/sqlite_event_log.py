"""Dagster's SQLite event log for the embedded instance, without its per-event costs.

A ranged run over 92 days of one Karbon pillar records 92 ``ASSET_MATERIALIZATION_PLANNED`` and 92
``ASSET_MATERIALIZATION`` events. Dagster's ``SqliteEventLogStorage`` writes each one on its own: a new
SQLAlchemy engine (so every statement is compiled again), a new connection and a commit for the run shard,
then the same again for the index shard, plus a schema probe per event. Measured on the three-year
backfill benchmark that was ~23 ms per partition × asset, ten times what the connectors needed to fetch
the data. This subclass keeps the files, schema and stored rows exactly as Dagster writes them and changes
only how they are written:

* one engine per shard, kept (still ``NullPool``: no connection stays open between writes, so the
  webserver, the daemon and run workers share the files exactly as before), so statements compile once;
* ``has_table`` answered once per table and process (tables are never dropped while the process lives);
* :meth:`store_event_batch` — what Dagster calls when ``DAGSTER_EVENT_BATCH_SIZE`` is set, for one step's
  materializations of a partition range and for a run's planned events — writes the batch in one
  transaction per shard, and updates each asset's summary row once per event type with the batch's last
  event of that type: the state event-by-event writes would leave, since every column there is
  "the latest".

The embedded instance (``integration_hub.instance.ensure_embedded_instance``) is configured with it; the
production instance on PostgreSQL is not affected (``PostgresEventLogStorage`` has its own batch write).
Dagster is pinned exactly in ``pyproject.toml`` because this builds on the storage's internals; the
tests compare what it stores with what Dagster's own class stores.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby
from typing import Any

from dagster._core.events import ASSET_EVENTS, BATCH_WRITABLE_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

# Engines kept per process. A run worker touches two shards (its run and the index); the webserver
# reads many runs, so the oldest engines are let go (an engine without pooled connections holds no file).
MAX_ENGINES = 64


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with kept engines and a one-transaction batch write (see the module)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._known_tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: Any
    ) -> BatchingSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    # ------------------------------------------------------------------------------ connections
    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
            while len(self._engines) > MAX_ENGINES:
                self._engines.popitem(last=False)[1].dispose()
        else:
            self._engines.move_to_end(shard)
        if shard not in self._initialized_dbs:  # emptied again by wipe(), which deletes run shards
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def has_table(self, table_name: str) -> bool:
        # Called with the index shard's lock held (from the tag writes), so it cannot go through _connect.
        if table_name in self._known_tables:
            return True
        exists = super().has_table(table_name)
        if exists:
            self._known_tables.add(table_name)
        return exists

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    # ------------------------------------------------------------------------------ batch writes
    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Store ``events`` in order; runs of plain asset events of one run go in one transaction per shard.

        Asset check events (a run's planned check evaluations travel in the same batch as its planned
        materializations) keep Dagster's own path, which also writes the check tables.
        """
        for (plain, _run_id), same in groupby(events, key=lambda e: (_is_plain_asset_event(e), e.run_id)):
            if plain:
                self._store_asset_events(list(same))
            else:
                for event in same:
                    self.store_event(event)

    def _store_asset_events(self, events: Sequence[EventLogEntry]) -> None:
        if not events:
            return
        if len(events) == 1:
            self.store_event(events[0])
            return
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        # The index shard mirrors every asset event with ids of its own; tags and the asset summary rows
        # point at those ids. (On SQLite, RETURNING in parameter order means one INSERT per row, still in
        # the one transaction.)
        returning_ids = SqlEventLogStorageTable.insert().returning(
            SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
        )
        try:
            with self.index_transaction() as conn:
                event_ids = [int(row[0]) for row in conn.execute(returning_ids, rows)]
                self._store_asset_event_tags(conn, events, event_ids)
                for event, event_id in _summary_updates(events, event_ids):
                    self._store_asset_event(conn, event, event_id)
        except Exception:
            # The run shard already holds the rows. Raising now would make Dagster store the whole batch
            # again event by event (run shard included); mirror them in the index one by one instead.
            for event in events:
                self._mirror_in_index(event)

    def _mirror_in_index(self, event: EventLogEntry) -> None:
        """The index half of ``SqliteEventLogStorage.store_event`` for one plain asset event."""
        with self.index_transaction() as conn:
            inserted = conn.execute(SqlEventLogStorageTable.insert().values(**self._event_to_row(event)))
            event_id = int(inserted.inserted_primary_key[0])
            self._store_asset_event_tags(conn, [event], [event_id])
            self._store_asset_event(conn, event, event_id)


def _is_plain_asset_event(event: EventLogEntry) -> bool:
    dagster_event = event.dagster_event
    return (
        dagster_event is not None
        and dagster_event.asset_key is not None
        and dagster_event.event_type in ASSET_EVENTS
        and dagster_event.event_type in BATCH_WRITABLE_EVENTS
    )


def _summary_updates(events: Sequence[EventLogEntry], event_ids: Sequence[int]) -> list[tuple[EventLogEntry, int]]:
    """The events to apply to the asset summary rows: the last of each (asset, event type).

    Every column those rows keep is "the latest", so applying only these leaves what applying all of them
    one by one would; assets go in the order of their first event, so a new asset's row gets the id it
    would have got event by event.
    """
    first: dict[str, int] = {}
    last: dict[tuple[str, str], int] = {}
    for index, event in enumerate(events):
        dagster_event = event.get_dagster_event()
        asset = str(dagster_event.asset_key)
        first.setdefault(asset, index)
        last[(asset, dagster_event.event_type_value)] = index
    ordered = sorted(last.items(), key=lambda item: (first[item[0][0]], item[1]))
    return [(events[index], event_ids[index]) for _, index in ordered]
