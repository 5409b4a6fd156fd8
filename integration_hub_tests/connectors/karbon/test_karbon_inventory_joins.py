"""Karbon pillars land in the inventory joinable on PermaKeys, on SQLite and on PostgreSQL.

Karbon has no foreign keys between pillars; the records keep the PermaKeys (an invoice's ``ClientKey``, a
time entry's ``WorkItemKey``), and these joins are what a footprint calculation runs.
"""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from integration_hub.store import schema
from integration_hub.store.inventory import replace_window
from integration_hub_tests.support.karbon_sim import WINDOW_90, connector, contract_breaches, karbon_server

inventory = schema.inventory


def _load(store, url, firm, streams):
    for stream in streams:
        karbon = connector(url, firm)
        replace_window(
            store.engine,
            company="acme",
            integration_id="karbon",
            stream=stream,
            window=WINDOW_90,
            records=karbon.collect(stream, WINDOW_90),
            run_id="test",
        )
        karbon.close()


def test_invoices_join_their_client_and_time_entries_their_work_item(store):
    with karbon_server(companies=1) as (sim, url):
        firm = sim.firms[0]
        _load(store, url, firm, ("ar", "time", "work", "contacts"))
        assert contract_breaches(sim) == []

    invoice = aliased(inventory)
    client = aliased(inventory)
    joined = (
        select(invoice.c.external_key, client.c.external_key, client.c.record_type)
        .select_from(invoice)
        .join(
            client,
            and_(
                client.c.integration_id == "karbon",
                client.c.record_type.in_(("contact", "organization")),
                client.c.external_key == invoice.c.payload["ClientKey"].as_string(),
            ),
        )
        .where(invoice.c.record_type == "invoice")
    )
    time_entry = aliased(inventory)
    work_item = aliased(inventory)
    time_on_work = (
        select(func.count())
        .select_from(time_entry)
        .join(
            work_item,
            and_(
                work_item.c.record_type == "work_item",
                work_item.c.external_key == time_entry.c.payload["WorkItemKey"].as_string(),
            ),
        )
        .where(time_entry.c.record_type == "time_entry")
    )
    with store.engine.connect() as conn:
        invoice_clients = {row[0]: (row[1], row[2]) for row in conn.execute(joined)}
        joined_time = conn.execute(time_on_work).scalar_one()

    # Expected from the simulator's own data: invoices whose client changed inside the window (the contacts
    # pillar only holds those) and time entries whose work item started inside the window.
    changed = {
        c["ContactKey"]: "contact"
        for c in firm.contacts
        if "2026-08-02" <= c["LastModifiedDateTime"][:10] < "2026-10-31"
    }
    changed |= {
        o["OrganizationKey"]: "organization"
        for o in firm.organizations
        if "2026-08-02" <= o["LastModifiedDateTime"][:10] < "2026-10-31"
    }
    expected_invoices = {
        i["InvoiceKey"]: (i["Client"]["ClientKey"], changed[i["Client"]["ClientKey"]])
        for i in firm.invoices
        if i["InvoiceDate"][:10] >= "2026-08-02"
        and i["InvoiceDate"][:10] < "2026-10-31"
        and i["Client"]["ClientKey"] in changed
    }
    assert invoice_clients == expected_invoices and len(expected_invoices) > 20
    started = {w["WorkItemKey"] for w in firm.work_items if "2026-08-02" <= w["StartDate"][:10] < "2026-10-31"}
    expected_time = sum(
        1 for t in firm.time_entries if "2026-08-02" <= t["Date"][:10] < "2026-10-31" and t["WorkItemKey"] in started
    )
    assert joined_time == expected_time > 100
