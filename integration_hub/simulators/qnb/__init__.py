"""A faithful fake of QNB e-Solutions' ``connectorService`` (and ``userService`` login) for tests and demos.

Public API::

    sim = QnbSimulator(seed=1, companies=2, start=date(2025, 1, 1), days=90, per_day=(0, 4),
                       credentials=[("demo", "demo-pass")], fail_rate=0.0)
    sim.app                                   # Starlette app (serve with simulators.server.running)
    sim.app.state.simulator is sim
    sim.accounts                              # [QnbAccount(username, password, vkn, verified)]
    sim.invoices("c1", "in", window)          # the GeneratedInvoices a collector must return
    sim.calls                                 # [SimCall(operation, user, status, fault, params)]
    sim.fail_next(3)                          # the next 3 calls answer a bare HTTP 503

The protocol is written from the published contract (:mod:`.contract`: the WSDL as tnhnclskn/efinans-php's
generated types record it), never from the connector: dispatch on the qualified body element, unqualified
members in the WSDL's order, one ``<ettnler>`` per ETTN, ``SOAPAction: ""`` (``strict_contract=False``
tolerates order and SOAPAction like a plain JAX-WS endpoint).

What it reproduces: WS-Security ``UsernameToken`` (plain text only) *or* ``wsLogin`` + ``JSESSIONID``
cookie; bad credentials → HTTP 500 fault ``[EF0003] Oturum açma işlemi başarısız...`` *[I text]*;
unverified accounts → ``[EF0556]``; a VKN the user may not act for → ``[EF0010]`` *[I]*; portal
sequence numbers with gaps; at most 100 rows per incoming list call, strictly after the cursor, with
yyyyMMdd issue-date filters (the cursor refuses arrival-date/``onayDurum`` filters; without a cursor a
blank ``onayDurum`` lists approved invoices only); outgoing lists by yyyyMMdd date range, truncated
at ``outgoing_limit`` *[I]*; downloads of up to ``download_limit`` ETTNs *[I]* as a base64 zip with one
``<ETTN>.xml`` each; compact timestamps. Fault injection: ``fail_rate`` (seeded) and ``fail_next(n)``
answer connectorService calls with a plain HTTP 503 (no SOAP fault).
"""

from __future__ import annotations

from integration_hub.simulators.efatura.common import (
    add_credentials_argument,
    print_fields,
    serve_announced,
    simulator_options,
    simulator_parser,
)
from integration_hub.simulators.qnb.simulator import (
    READ_ONLY_OPERATIONS,
    STATE_CHANGING_OPERATIONS,
    Company,
    QnbAccount,
    QnbSimulator,
    SimCall,
    create_app,
)

__all__ = [
    "READ_ONLY_OPERATIONS",
    "STATE_CHANGING_OPERATIONS",
    "Company",
    "QnbAccount",
    "QnbSimulator",
    "SimCall",
    "create_app",
    "main",
]

SERVICE_PATH = "/efatura/ws/connectorService"


def main(argv: list[str]) -> None:
    """``integration-hub simulate qnb --port P [--seed S] [--companies N] [--days D] [--credentials U:P]...``."""
    parser = simulator_parser(
        "qnb", __doc__, port=8404, companies_help="number of simulated companies (one account each)"
    )
    add_credentials_argument(parser, "an extra account for the first company (repeatable)")
    args = parser.parse_args(argv)
    if args.companies < 1 or args.days < 1:
        parser.error("--companies and --days must be at least 1")
    sim = QnbSimulator(**simulator_options(args), companies=args.companies, credentials=args.credentials)
    for account in sim.accounts:
        company = sim.company_of(account.vkn)
        slug = company.slug if company else "?"
        print_fields(company=slug, vkn=account.vkn, username=account.username, password=account.password)
    serve_announced(sim.app, args.port, "QNB connectorService", SERVICE_PATH)
