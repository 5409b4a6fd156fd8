"""The Karbon connector: seven pillars, each collected for a date window with the fewest requests.

Karbon has no last-modified filters, so each pillar uses what the API does offer (karbon.md §5.1):

* **time** — ``IndividualTimeEntries`` filtered ``Date ge start and Date lt end`` over the whole
  window, 1000 per page, ``$count=true`` so the provider's total is checked against what is written.
* **work** — ``WorkItems`` filtered ``StartDate ge/le`` (its only range filter), 100 per page.
* **contacts** — ``Contacts`` and ``Organizations`` ordered ``LastModifiedDateTime desc``, paging
  stops at the first row older than the window (not a full scan every day); ``ClientGroups`` cannot be
  ordered by change, so it is scanned (it is small) and filtered. For each client that changed in the
  window: its business cards (``Contacts/{key}?$expand=BusinessCards``) and ``CustomFieldValues/{key}``.
* **ar** — ``Invoices`` ordered ``InvoiceDate desc`` with the same early stop, one
  ``Invoices/{key}?$expand=LineItems`` per invoice of the window (the list cannot expand);
  ``Payments`` has neither filter nor order, so it is scanned and filtered by ``PaymentDate``.
* **tenant** — Users, Roles, Teams, CustomFields and TenantSettings: reference data without history,
  recorded on the window's last day (the asset is a snapshot stream: a run replaces only that day, so
  the daily runs build up one snapshot per day).
* **content_items** — Notes and comments are only reachable by key (webhooks carry them); files are
  listed per entity (``FileList/{type}?EntityKey=``) for the contacts and organizations that changed in
  the window and the work items that *start* in it (work items carry no change date), and the files
  created in the window are kept. A file added later to an older work item is therefore not seen here;
  the Work webhook (``integration-hub karbon subscribe``) triggers a run for the day it happens. Cost:
  one request per entity, which is why it is a separate asset.
* **accounting** — the ``AccountingDetail`` inside ``Contacts/{key}`` / ``Organizations/{key}`` of the
  clients that changed in the window.

Record dates are UTC business dates; every record keeps its PermaKey and the cross-pillar keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from integration_hub.connectors.base import (
    AuthenticationError,
    CollectStats,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    DateWindow,
    Record,
    rate_setting,
    required_setting,
)
from integration_hub.connectors.http import RetryPolicy, TokenBucket
from integration_hub.connectors.karbon.client import KarbonClient
from integration_hub.connectors.karbon.helpers import (
    business_day,
    decimal,
    record,
    require_key,
    window_filter,
)
from integration_hub.connectors.karbon.settings import (
    CHANGE_ORDERED_CLIENTS,
    DEFAULT_BASE_URL,
    DEFAULT_REQUESTS_PER_MINUTE,
    PAGE_SIZE,
    PILLARS,
    TENANT_LISTS,
    TENANT_PAGE_SIZES,
    TIME_ENTRY_PAGE_SIZE,
)

__all__ = ["KarbonClient", "KarbonConnector", "build_karbon"]


@dataclass(frozen=True)
class ChangedClient:
    """A contact or organization whose LastModifiedDateTime lies in the window."""

    entity_set: str  # Contacts | Organizations
    record_type: str  # contact | organization
    key_field: str  # ContactKey | OrganizationKey
    key: str
    file_type: str  # FileList entity type
    row: dict[str, Any]
    day: date


class KarbonConnector:
    """One Karbon account (API application + access key), collecting any pillar for a window."""

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        retry: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        self.config = config
        self.stats = CollectStats()
        rate = rate_setting(config, DEFAULT_REQUESTS_PER_MINUTE, "Karbon")
        self.client = KarbonClient(
            required_setting(config, "application_id", "Karbon"),
            config.secret("access_key"),
            base_url=str(config.setting("base_url", DEFAULT_BASE_URL)),
            requests_per_minute=rate,
            stats=self.stats,
            retry=retry,
            bucket=bucket,
        )
        self._collectors: dict[str, Callable[[DateWindow], Iterator[Record]]] = {
            "tenant": self._tenant,
            "work": self._work,
            "contacts": self._contacts,
            "time": self._time,
            "ar": self._ar,
            "content_items": self._content_items,
            "accounting": self._accounting,
        }

    def streams(self) -> tuple[str, ...]:
        return PILLARS

    def test_connection(self) -> ConnectionTestResult:
        """One cheap authenticated call: ``GET /v3/TenantSettings``."""
        try:
            settings = self.client.get("/v3/TenantSettings")
        except AuthenticationError as exc:
            return ConnectionTestResult(False, str(exc))
        except ConnectorError as exc:
            return ConnectionTestResult(False, f"Karbon could not be reached: {exc}")
        tenant = (settings or {}).get("TenantKey", "unknown")
        return ConnectionTestResult(True, f"authenticated with Karbon tenant {tenant}")

    def collect(self, stream: str, window: DateWindow) -> Iterator[Record]:
        try:
            collector = self._collectors[stream]
        except KeyError:
            raise ConnectorError(f"Karbon: unknown stream '{stream}' (choose {', '.join(PILLARS)})") from None
        return collector(window)

    def close(self) -> None:
        self.client.close()

    # --- time ------------------------------------------------------------------------------------
    def _time(self, window: DateWindow) -> Iterator[Record]:
        params = {
            "$filter": window_filter("Date", window),
            "$orderby": "Date",
            "$top": str(TIME_ENTRY_PAGE_SIZE),
            "$count": "true",
        }
        for index, page in enumerate(
            self.client.pages("/v3/IndividualTimeEntries", params, key="IndividualTimeEntryKey")
        ):
            if index == 0 and page.count is not None:
                self.stats.add_reported("time_entry", int(page.count))
            for row in page.rows:
                yield record(
                    "time_entry",
                    row,
                    "IndividualTimeEntryKey",
                    business_day(row.get("Date"), "Date"),
                    amount=decimal(row.get("TotalCost")),
                    quantity=decimal(row.get("Minutes")),
                    unit="min",
                    description=row.get("Description"),
                )

    # --- work ------------------------------------------------------------------------------------
    def _work_items(self, window: DateWindow, *, report: bool) -> Iterator[dict[str, Any]]:
        params = {
            "$filter": window_filter("StartDate", window, upper="le"),
            "$orderby": "StartDate",
            "$top": str(PAGE_SIZE),
        }
        for index, page in enumerate(self.client.pages("/v3/WorkItems", params, key="WorkItemKey")):
            if report and index == 0 and page.count is not None:
                self.stats.add_reported("work_item", int(page.count))
            yield from page.rows

    def _work(self, window: DateWindow) -> Iterator[Record]:
        for row in self._work_items(window, report=True):
            yield record(
                "work_item",
                row,
                "WorkItemKey",
                business_day(row.get("StartDate"), "StartDate"),
                counterparty=row.get("ClientName"),
                description=row.get("Title"),
            )

    # --- clients that changed (contacts, accounting, content items) -----------------------------
    def _newest_first(
        self, entity_set: str, key_field: str, date_field: str, window: DateWindow
    ) -> Iterator[tuple[dict[str, Any], date]]:
        """Rows of ``entity_set`` whose ``date_field`` falls in the window, read ``$orderby=<date_field> desc``.

        For endpoints that can sort by a date but not filter on it: paging stops at the first row older than
        the window, so a daily run reads one page instead of the whole history.
        """
        params = {"$orderby": f"{date_field} desc", "$top": str(PAGE_SIZE)}
        for page in self.client.pages(f"/v3/{entity_set}", params, key=key_field):
            for row in page.rows:
                day = business_day(row.get(date_field), date_field)
                if day < window.start:
                    return
                if day < window.end:
                    yield row, day

    def _changed_clients(self, window: DateWindow) -> Iterator[ChangedClient]:
        """Contacts, then organizations, that changed in the window (see :meth:`_newest_first`)."""
        for entity_set, record_type, key_field, file_type in CHANGE_ORDERED_CLIENTS:
            for row, day in self._newest_first(entity_set, key_field, "LastModifiedDateTime", window):
                key = require_key(row, key_field, record_type)
                yield ChangedClient(entity_set, record_type, key_field, key, file_type, row, day)

    def _contacts(self, window: DateWindow) -> Iterator[Record]:
        for client in self._changed_clients(window):
            key, day = client.key, client.day
            yield record(client.record_type, client.row, client.key_field, day, description=client.row.get("FullName"))
            detail = self.client.get(f"/v3/{client.entity_set}/{key}", {"$expand": "BusinessCards"}) or {}
            for card in detail.get("BusinessCards") or []:
                yield record("business_card", {**card, "EntityKey": key}, "BusinessCardKey", day)
            values = self.client.get(f"/v3/CustomFieldValues/{key}")
            if values is not None:
                yield record("custom_field_values", {**values, "EntityKey": key}, "EntityKey", day)
        for row in self.client.rows("/v3/ClientGroups", {"$top": str(PAGE_SIZE)}, key="ClientGroupKey"):
            day = business_day(row.get("LastModifiedDateTime"), "LastModifiedDateTime")
            if day in window:
                yield record("client_group", row, "ClientGroupKey", day, description=row.get("FullName"))

    def _accounting(self, window: DateWindow) -> Iterator[Record]:
        for client in self._changed_clients(window):
            detail = self.client.get(f"/v3/{client.entity_set}/{client.key}")
            accounting = (detail or {}).get("AccountingDetail")
            if accounting:
                yield record(
                    "accounting_detail",
                    {**accounting, "ClientKey": client.key, "ClientType": client.record_type.title()},
                    "ClientKey",
                    client.day,
                    counterparty=client.row.get("FullName"),
                    currency=accounting.get("BaseCurrency"),
                )

    def _content_items(self, window: DateWindow) -> Iterator[Record]:
        owners = [(client.file_type, client.key) for client in self._changed_clients(window)]
        owners += [
            ("WorkItem", require_key(row, "WorkItemKey", "work item")) for row in self._work_items(window, report=False)
        ]
        for entity_type, key in owners:
            listing = self.client.get(f"/v3/FileList/{entity_type}", {"EntityKey": key}) or {}
            for attachment in listing.get("Attachments") or []:
                day = business_day(attachment.get("DateCreated"), "DateCreated")
                if day in window:
                    yield record(
                        "file",
                        {**attachment, "EntityType": entity_type, "EntityKey": key},
                        "FileContextKey",
                        day,
                        quantity=decimal(attachment.get("FileSize")),
                        unit="byte",
                        description=attachment.get("FileName"),
                    )

    # --- AR --------------------------------------------------------------------------------------
    def _ar(self, window: DateWindow) -> Iterator[Record]:
        for row, day in self._newest_first("Invoices", "InvoiceKey", "InvoiceDate", window):
            yield from self._invoice(row, day)
        for row in self.client.rows("/v3/Payments", {"$top": str(PAGE_SIZE)}, key="PaymentKey"):
            day = business_day(row.get("PaymentDate"), "PaymentDate")
            if day in window:
                client = row.get("Client") or {}
                yield record(
                    "payment",
                    row,
                    "PaymentKey",
                    day,
                    amount=decimal(row.get("GrossAmount")),
                    counterparty=client.get("Name"),
                    description=row.get("PaymentReference"),
                )

    def _invoice(self, row: dict[str, Any], day: date) -> Iterator[Record]:
        key = require_key(row, "InvoiceKey", "invoice")
        currency = row.get("CurrencyCode")
        client = row.get("Client") or {}
        yield record(
            "invoice",
            {**row, "ClientKey": client.get("ClientKey")},
            "InvoiceKey",
            day,
            amount=decimal(row.get("InvoiceTotal")),
            currency=currency,
            counterparty=client.get("Name"),
            description=row.get("InvoiceNumber"),
        )
        detail = self.client.get(f"/v3/Invoices/{key}", {"$expand": "LineItems"}) or {}
        for line in detail.get("LineItems") or []:
            yield record(
                "invoice_line",
                {**line, "InvoiceKey": key, "ClientKey": client.get("ClientKey")},
                "LineItemKey",
                day,
                amount=decimal(line.get("Amount")),
                currency=currency,
                quantity=decimal(line.get("Quantity")),
                counterparty=client.get("Name"),
                description=line.get("Description"),
            )

    # --- tenant ----------------------------------------------------------------------------------
    def _tenant(self, window: DateWindow) -> Iterator[Record]:
        day = window.last
        for entity_set, record_type, key_field in TENANT_LISTS:
            params = {"$top": str(TENANT_PAGE_SIZES[entity_set])} if entity_set in TENANT_PAGE_SIZES else {}
            for row in self.client.rows(f"/v3/{entity_set}", params, key=key_field):
                yield record(record_type, row, key_field, day, description=row.get("Name"))
        settings = self.client.get("/v3/TenantSettings") or {}
        yield record("tenant_settings", settings, "TenantKey", day)


def build_karbon(config: ConnectorConfig) -> KarbonConnector:
    """Factory registered in :data:`integration_hub.connectors.CONNECTORS`."""
    return KarbonConnector(config)
