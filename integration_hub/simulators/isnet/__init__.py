"""A fake of İşNet's ``InvoiceService.svc`` (WCF, DataContract) written from its published contract.

Public API::

    sim = IsnetSimulator(seed=1, companies=1, vkns=["1234567890"], start=date(2025, 1, 1), days=90,
                         per_day=(0, 4), walled={"5555555555": frozenset({"10.0.0.1"})}, fail_rate=0.0,
                         answer_model="wsdl", dates="datetime")
    sim.app                                   # Starlette app, served at SERVICE_PATH
    sim.app.state.simulator is sim
    sim.companies                             # {"c1": IsnetCompany(slug, vkn, name, allowed_ips)}
    sim.invoices("c1", "in", window)          # the GeneratedInvoices a collector must return
    sim.calls                                 # [SimCall(operation, vkn, status, outcome, params, ignored)]
    sim.fail_next(3)                          # the next 3 calls answer a bare HTTP 503

Identity is the company VKN (``CompanyTaxCode``), no password; ``walled`` companies only accept the
listed client IPs (İşNet's production whitelist). ``SimCall.params`` holds the DataContract members the
service actually read and ``ignored`` the elements it skipped, so tests can prove a client sends its
members in WCF (alphabetical) order and namespace. Where the public sources disagree the simulator
answers either reading: ``answer_model`` (``wsdl``/``nettefatura``: how ``Result`` and ``PagingResponse``
look) and ``dates`` (``datetime``/``date``: how the date filters compare); see :mod:`.contract`.
Fault injection: ``fail_rate`` (seeded) and ``fail_next(n)``. Nothing here imports the connectors.
"""

from __future__ import annotations

import argparse

from integration_hub.simulators.efatura.common import print_fields, serve_announced, simulator_options, simulator_parser
from integration_hub.simulators.isnet.calls import SimCall
from integration_hub.simulators.isnet.contract import SERVICE_PATH, STATE_CHANGING_OPERATIONS
from integration_hub.simulators.isnet.simulator import (
    READ_ONLY_OPERATIONS,
    TEST_VKN,
    IsnetCompany,
    IsnetSimulator,
    create_app,
)

__all__ = [
    "READ_ONLY_OPERATIONS",
    "SERVICE_PATH",
    "STATE_CHANGING_OPERATIONS",
    "TEST_VKN",
    "IsnetCompany",
    "IsnetSimulator",
    "SimCall",
    "create_app",
    "main",
]


def _vkn(value: str) -> str:
    if not (value.isdigit() and len(value) in (10, 11)):
        raise argparse.ArgumentTypeError("expected a 10-digit VKN or 11-digit TCKN")
    return value


def main(argv: list[str]) -> None:
    """``integration-hub simulate isnet --port P [--seed S] [--companies N] [--days D] [--vkn V]...``."""
    parser = simulator_parser(
        "isnet", __doc__, port=8405, companies_help=f"simulated companies (the first is {TEST_VKN})"
    )
    parser.add_argument(
        "--vkn", type=_vkn, action="append", default=[], help="an extra company with this VKN (repeatable)"
    )
    parser.add_argument("--max-page-size", type=int, default=100)
    args = parser.parse_args(argv)
    if args.companies < 1 or args.days < 1:
        parser.error("--companies and --days must be at least 1")
    sim = IsnetSimulator(
        **simulator_options(args), companies=args.companies, vkns=args.vkn, max_page_size=args.max_page_size
    )
    for company in sim.companies.values():
        print_fields(company=company.slug, vkn=company.vkn, name=company.name)
    serve_announced(sim.app, args.port, "İşNet InvoiceService", SERVICE_PATH)
