"""A faithful fake of Uyumsoft's e-Fatura ``Integration`` service (and, as a flavor, CRS Soft's).

Public API::

    app = create_app(seed=1, companies=2, start=date(2025, 1, 1), days=90, credentials=["Uyumsoft:Uyumsoft"],
                     page_size_max=100, fail_rate=0.0, flavor="uyumsoft", bulk_data=True, unauthorized_as="fault")
    sim = app.state.simulator                 # UyumsoftSimulator
    sim.accounts / sim.mailboxes              # slug -> Account / Mailbox (generated UBL-TR invoices)
    sim.invoices("company-1", "in", window)   # what a collector must return for a window
    sim.calls, sim.operations()               # the call log (operation, username, status, outcome, params)
    sim.state_changes()                       # calls that changed a mailbox — a collector must make none
    sim.fail_next(3)                          # the next three requests answer a bare HTTP 503

``integration-hub simulate uyumsoft --port P [--seed S] [--companies N] [--days D] [--credentials U:P]
[--page-size-max M] [--fail-rate R] [--flavor uyumsoft|crs]`` serves it on 127.0.0.1 and first prints
one line per account it accepts. Protocol details: :mod:`integration_hub.simulators.uyumsoft.app`.
"""

from __future__ import annotations

from integration_hub.simulators.efatura.common import (
    add_credentials_argument,
    print_fields,
    serve_announced,
    simulator_options,
    simulator_parser,
)
from integration_hub.simulators.uyumsoft.app import FLAVORS, SimCall, UyumsoftSimulator, create_app, service_path
from integration_hub.simulators.uyumsoft.mailbox import Account, Mailbox

__all__ = ["Account", "Mailbox", "SimCall", "UyumsoftSimulator", "create_app", "main"]

DEFAULT_PORT = {"uyumsoft": 8401, "crs": 8402}


def main(argv: list[str], *, flavor: str = "uyumsoft") -> None:
    """``integration-hub simulate uyumsoft ...``; the CRS simulator calls it with ``flavor="crs"``."""
    parser = simulator_parser(
        flavor, __doc__, port=DEFAULT_PORT[flavor], companies_help="generated accounts (each its own mailbox)"
    )
    add_credentials_argument(parser, "add an account with this login", split=False)
    parser.add_argument("--page-size-max", type=int, default=100)
    parser.add_argument("--flavor", choices=FLAVORS, default=flavor)
    parser.add_argument("--no-bulk-data", action="store_true", help="answer Get*InvoicesData with ActionNotSupported")
    parser.add_argument("--unauthorized-as", choices=("fault", "result"), default="fault")
    args = parser.parse_args(argv)
    if args.companies < 0 or (args.companies == 0 and not args.credentials):
        parser.error("--companies must be positive (or 0 with --credentials)")
    try:
        app = create_app(
            **simulator_options(args),
            companies=args.companies,
            credentials=args.credentials,
            page_size_max=args.page_size_max,
            flavor=args.flavor,
            bulk_data=not args.no_bulk_data,
            unauthorized_as=args.unauthorized_as,
        )
    except ValueError as exc:
        parser.error(str(exc))
    sim: UyumsoftSimulator = app.state.simulator
    for slug, account in sim.accounts.items():
        print_fields(account=slug, username=account.username, password=account.password, vkn=account.vkn)
    serve_announced(app, args.port, f"{args.flavor} Integration service", service_path())
