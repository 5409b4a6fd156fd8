"""A faithful fake of EDM Bilişim's ``EFaturaEDM.svc`` (e-Fatura / e-Arşiv) for tests and demos.

Public API::

    sim = EdmSimulator(seed=1, accounts=[EdmAccount("acme", "acme.edm", "secret", "1234567803", "ACME")],
                       start=date(2025, 1, 1), days=90, per_day=(0, 4), burst_max=4,
                       session_ttl=8 * 3600, fail_rate=0.0, clock=time.monotonic)
    app = create_app(sim)                    # Starlette app; serve it with simulators.server.running(app)
    sim.invoices("acme", "in", window)       # the GeneratedInvoices a collector must return for a window
    sim.calls / sim.calls_to("GetInvoice")   # [SimCall(operation, account, status, fault, header, params, returned)]
    sim.expire_sessions()                    # every session answers "Aktif session bulunamadı" from now on
    sim.fail_next(2)                         # the next two requests get a bare HTTP 503
    sim.mailboxes["acme"].set_cdate(uuids, moment)   # a bulk upload: many invoices in one CDATE second

What it reproduces, written from EDM's contract as its svcutil-generated client records it
(:mod:`.contract`), never from our connector: the WCF front (SOAPAction = bare request name, else
``a:ActionNotSupported``; members unqualified and in ``Order``, bound as XmlSerializer binds them, see
:mod:`integration_hub.simulators.efatura.binding`; a value of the wrong type → ``a:DeserializationFailed``);
``Login`` (bad credentials → SOAP fault with a ``REQUEST_ERRORType`` detail), GUID sessions checked on every call and
expiring after ``session_ttl``; ``GetInvoice`` with ``DIRECTION`` (``IN``/``OUT``/``OUT-EINVOICE``/
``OUT-EARCHIVE``), ``START_DATE``/``END_DATE`` (issue date, inclusive), ``CR_START_DATE``/``CR_END_DATE``
(creation), ``ID``/``UUID``, ``READ_INCLUDED`` vs read marks, answers sorted by ``CDATE`` and capped at
``LIMIT``, several invoices per ``CDATE`` second, base64 ``CONTENT`` only with ``HEADER_ONLY=N`` (zipped
when ``COMPRESSED=Y``); ``Logout``; ``MarkInvoice`` (``READ``/``UNREAD``, state-changing, recorded).
``?wsdl`` serves the contract. Fault injection: ``fail_rate`` and ``fail_next`` answer with a bare HTTP 503.
"""

from __future__ import annotations

from integration_hub.simulators.edm.app import SERVICE_PATHS, create_app
from integration_hub.simulators.edm.simulator import (
    DEFAULT_SESSION_TTL,
    EdmAccount,
    EdmSimulator,
    SimCall,
    default_accounts,
)
from integration_hub.simulators.efatura.common import (
    add_credentials_argument,
    print_fields,
    serve_announced,
    simulator_options,
    simulator_parser,
)
from integration_hub.simulators.efatura.documents import vkn_with_check

__all__ = ["EdmAccount", "EdmSimulator", "SimCall", "create_app", "main"]


def main(argv: list[str]) -> None:
    """``integration-hub simulate edm --port P [--seed S] [--companies N] [--days D] [--credentials U:P]``."""
    parser = simulator_parser("edm", __doc__, port=8403, companies_help="generated accounts, one company each")
    add_credentials_argument(parser, "add an account with these credentials (repeatable)")
    parser.add_argument("--session-ttl", type=float, default=DEFAULT_SESSION_TTL, metavar="SECONDS")
    args = parser.parse_args(argv)
    if args.companies < 0 or args.days < 1 or not 0 <= args.fail_rate <= 1:
        parser.error("--companies must be >= 0, --days >= 1 and --fail-rate within 0..1")

    accounts = default_accounts(args.companies, args.seed)
    for index, (username, password) in enumerate(args.credentials, start=1):
        slug = f"custom{index}"
        vkn = vkn_with_check(str(900_000_000 + index))
        accounts.append(EdmAccount(slug, username, password, vkn, f"Custom Company {index} A.Ş."))
    if not accounts:
        parser.error("no accounts: use --companies N or --credentials USER:PASS")
    sim = EdmSimulator(**simulator_options(args), accounts=accounts, session_ttl=args.session_ttl)
    for account in sim.accounts.values():
        print_fields(account=account.slug, username=account.username, password=account.password)
    serve_announced(create_app(sim), args.port, "EDM EFaturaEDM.svc", SERVICE_PATHS[0])
