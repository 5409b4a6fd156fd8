"""The EDM connector against the EDM simulator over HTTP on 127.0.0.1."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from datetime import date

import pytest
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integration_hub.connectors.base import (
    AuthenticationError,
    ConfigurationError,
    ConnectorConfig,
    DateWindow,
    ProviderError,
    TransientError,
)
from integration_hub.connectors.edm import EdmConnector, build_edm, settings
from integration_hub.connectors.http import RetryPolicy
from integration_hub.simulators.edm import EdmAccount, EdmSimulator, create_app
from integration_hub.simulators.efatura.documents import b64, generate_mailbox
from integration_hub.simulators.efatura.soap import read_soap_request, soap_response
from integration_hub.simulators.server import running
from integration_hub_tests.support.efatura_expectations import mailbox_expected, summarize

ACME = EdmAccount("acme", "acme.edm", "s3cret-Pa55", "1234567803", "ACME Enerji A.Ş.")
START = date(2025, 1, 1)
WINDOW = DateWindow(date(2025, 1, 15), date(2025, 3, 16))  # 60 days
FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.003)
SESSION_FAULT = "Aktif session bulunamadı."


def _sim(**kwargs) -> EdmSimulator:
    options = {"seed": 21, "accounts": [ACME], "start": START, "days": 90, "per_day": (3, 7), "burst_max": 4}
    return EdmSimulator(**{**options, **kwargs})


@pytest.fixture(scope="module")
def served():
    sim = _sim()
    with running(create_app(sim)) as base:
        yield sim, base


@pytest.fixture()
def fresh():
    """A simulator of its own, for tests that change its data."""
    sim = _sim(days=40, per_day=(2, 5))
    with running(create_app(sim)) as base:
        yield sim, base


def _config(base: str, password: str | None = None, **extra) -> ConnectorConfig:
    return ConnectorConfig(
        settings={"username": ACME.username, "base_url": base, "requests_per_minute": 600000, **extra},
        secrets={"password": password or ACME.password},
    )


def _connector(base: str, password: str | None = None, **kwargs) -> EdmConnector:
    return EdmConnector(_config(base, password), retry=FAST, **kwargs)


def _collect(base: str, window: DateWindow = WINDOW, **kwargs) -> tuple[EdmConnector, list]:
    connector = _connector(base, **kwargs)
    try:
        records = list(connector.collect("invoices", window))
    finally:
        connector.close()
    return connector, records


def _since(sim: EdmSimulator, mark: int) -> list:
    return sim.calls[mark:]


def test_sixty_day_window_yields_exactly_the_simulators_invoices_with_fewest_requests(served) -> None:
    sim, base = served
    mark = len(sim.calls)
    connector, records = _collect(base)
    calls = _since(sim, mark)

    want = mailbox_expected(sim, "acme", WINDOW)
    incoming, outgoing = sim.invoices("acme", "in", WINDOW), sim.invoices("acme", "out", WINDOW)
    assert len(incoming) > 2 * settings.LIMIT and len(outgoing) > 2 * settings.LIMIT  # really pages
    assert summarize(records) == want
    assert sum(1 for r in records if r.record_type == "invoice_line") == sum(lines for lines, _ in want.values())

    # One Login, one GetInvoice per page (content inline, never per document), one Logout, nothing else.
    operations = Counter(call.operation for call in calls)
    assert operations == {"Login": 1, "GetInvoice": connector.stats.pages, "Logout": 1}
    assert connector.stats.requests == connector.stats.pages + 2
    assert connector.stats.retries == 0
    for direction, invoices in (("IN", incoming), ("OUT", outgoing)):
        pages = [c for c in calls if c.operation == "GetInvoice" and c.params["DIRECTION"] == direction]
        # Each page re-reads its boundary second (at most a few invoices), so barely more than n / LIMIT.
        assert math.ceil(len(invoices) / settings.LIMIT) <= len(pages) <= math.ceil(len(invoices) / 90) + 1
        assert all(p.params["LIMIT"] == "100" and p.params["HEADER_ONLY"] == "N" for p in pages)
        assert all(p.params["READ_INCLUDED"] == "true" for p in pages)
        assert all(p.params["START_DATE"] == "2025-01-15" and p.params["END_DATE"] == "2025-03-15" for p in pages)
        assert "CR_START_DATE" not in pages[0].params
        assert all(p.params["CR_START_DATE"] for p in pages[1:])
        assert sum(p.returned for p in pages) > len(invoices)  # boundary seconds were read twice, kept once
    assert not sim.calls_to("MarkInvoice")


def test_every_request_carries_the_session_header(served) -> None:
    sim, base = served
    mark = len(sim.calls)
    _collect(base, DateWindow(date(2025, 2, 1), date(2025, 2, 8)))
    calls = _since(sim, mark)

    login, *rest = calls
    assert login.operation == "Login" and login.header["SESSION_ID"] == settings.LOGIN_SESSION_ID
    assert login.params == {"USER_NAME": ACME.username}  # the password is never logged
    session_ids = {call.header["SESSION_ID"] for call in rest}
    assert len(session_ids) == 1 and uuid.UUID(session_ids.pop())
    txn_ids = [call.header["CLIENT_TXN_ID"] for call in calls]
    assert len(set(txn_ids)) == len(calls) and all(uuid.UUID(t) for t in txn_ids)
    for call in calls:
        assert call.header["COMPRESSED"] == "N"
        assert call.header["APPLICATION_NAME"] == settings.APPLICATION_NAME
        assert call.header["CHANNEL_NAME"] == settings.CHANNEL_NAME
        assert call.header["HOSTNAME"] and call.header["ACTION_DATE"]
    assert rest[-1].operation == "Logout"


def test_invoices_sharing_the_boundary_second_are_neither_lost_nor_duplicated(fresh) -> None:
    sim, base = fresh
    window = DateWindow(date(2025, 1, 1), date(2025, 2, 10))
    entries = [e for e in sim.mailboxes["acme"].entries if e.invoice.direction == "in"]
    # Invoices 8..11 arrive in one second: a page of 10 ends inside that second.
    sim.mailboxes["acme"].set_cdate([e.uuid for e in entries[8:12]], entries[11].cdate)
    second = entries[11].cdate

    connector, records = _collect(base, window, limit=10)

    assert summarize(records) == mailbox_expected(sim, "acme", window)
    pages = [c for c in sim.calls_to("GetInvoice") if c.params["DIRECTION"] == "IN"]
    assert pages[1].params["CR_START_DATE"] == second.isoformat()  # same second again, not +1 s
    assert connector.stats.requests == connector.stats.pages + 2


def test_a_full_page_of_one_second_is_stepped_past_without_losing_its_invoices(fresh) -> None:
    sim, base = fresh
    window = DateWindow(date(2025, 1, 1), date(2025, 2, 10))
    entries = [e for e in sim.mailboxes["acme"].entries if e.invoice.direction == "out"]
    burst = entries[15:29]  # a bulk upload: 14 invoices in one second, more than a page of 10
    sim.mailboxes["acme"].set_cdate([e.uuid for e in burst], burst[-1].cdate)

    connector, records = _collect(base, window, limit=10)

    assert summarize(records) == mailbox_expected(sim, "acme", window)
    calls = [c for c in sim.calls_to("GetInvoice") if c.params["DIRECTION"] == "OUT"]
    listings = [c for c in calls if c.params["HEADER_ONLY"] == "Y"]
    by_uuid = [c for c in calls if "UUID" in c.params]
    assert len(listings) == 1 and listings[0].params["CR_START_DATE"] == burst[-1].cdate.isoformat()
    burst_uuids = {e.uuid for e in entries if e.cdate == burst[-1].cdate}  # with any natural tie of that second
    assert by_uuid and all(c.params["UUID"].lower() in burst_uuids for c in by_uuid)
    after = calls[calls.index(listings[0]) + 1 + len(by_uuid)]
    assert after.params["CR_START_DATE"] > burst[-1].cdate.isoformat()  # stepped one second on
    assert connector.stats.requests == connector.stats.pages + 2


def test_session_expiry_mid_collection_logs_in_once_more_and_stays_exact(served) -> None:
    sim, base = served
    mark = len(sim.calls)
    connector = _connector(base)
    records = []
    try:
        for record in connector.collect("invoices", WINDOW):
            records.append(record)
            if len(records) == 150:
                assert sim.expire_sessions() == 1
    finally:
        connector.close()
    calls = _since(sim, mark)

    assert summarize(records) == mailbox_expected(sim, "acme", WINDOW)
    assert [c.operation for c in calls].count("Login") == 2
    assert connector.client.logins == 2
    expired = [c for c in calls if c.fault == SESSION_FAULT]
    assert len(expired) == 1 and expired[0].operation == "GetInvoice"
    assert calls[-1].operation == "Logout" and calls[-1].status == 200


def test_a_session_that_dies_again_right_after_login_is_an_error_not_a_loop(fresh) -> None:
    sim, base = fresh
    sim.session_ttl = 0.0  # every session is dead on arrival
    connector = _connector(base)
    with pytest.raises(ProviderError, match="inactive again right after a fresh login"):
        list(connector.collect("invoices", DateWindow(date(2025, 1, 1), date(2025, 1, 10))))
    connector.close()
    assert [c.operation for c in sim.calls] == ["Login", "GetInvoice", "Login", "GetInvoice"]


def test_wrong_password_is_an_authentication_error_and_is_not_retried(served) -> None:
    sim, base = served
    mark = len(sim.calls)
    connector = _connector(base, password="not-the-password")
    with pytest.raises(AuthenticationError) as caught:
        list(connector.collect("invoices", WINDOW))
    connector.close()

    message = str(caught.value)
    assert "username 'acme.edm'" in message and "password" in message
    assert "not-the-password" not in message and "\n" not in message
    calls = _since(sim, mark)
    assert [(c.operation, c.status) for c in calls] == [("Login", 500)]
    assert connector.stats.requests == 1 and connector.stats.retries == 0


def test_a_request_the_service_cannot_read_is_a_contract_error_not_a_wrong_password(served, monkeypatch) -> None:
    """A SOAPAction the service does not know gets WCF's ActionNotSupported even on Login: that must not send a
    data engineer off to check a password that is fine."""
    from integration_hub.connectors.efatura.soap import SoapClient

    _sim_state, base = served
    monkeypatch.setattr(SoapClient, "soap_action", lambda self, operation: f"http://tempuri.org/X/{operation}")
    connector = _connector(base)
    with pytest.raises(ProviderError) as caught:
        list(connector.collect("invoices", WINDOW))
    connector.close()
    assert not isinstance(caught.value, AuthenticationError)
    assert str(caught.value).startswith(
        "edm: Login: the service could not read the request (ActionNotSupported: a contract mismatch, not the "
        "credentials): The message with Action 'http://tempuri.org/X/LoginRequest' cannot be processed"
    )
    assert len(str(caught.value)) <= 400  # the fault's long text is cut, the one line stays readable


def test_injected_503s_are_retried_and_the_result_stays_exact(served) -> None:
    sim, base = served
    mark = len(sim.calls)
    sim.fail_next(3)  # Login answers 503 three times, then succeeds: three retries
    connector, records = _collect(base)

    assert summarize(records) == mailbox_expected(sim, "acme", WINDOW)
    calls = _since(sim, mark)
    assert [c.status for c in calls[:4]] == [503, 503, 503, 200]
    assert connector.stats.retries == 3
    assert connector.stats.requests == connector.stats.pages + 2 + 3


def test_a_service_that_keeps_failing_raises_a_transient_error(served) -> None:
    sim, base = served
    sim.fail_next(FAST.max_attempts)
    connector = _connector(base)
    with pytest.raises(TransientError, match="HTTP 503"):
        list(connector.collect("invoices", WINDOW))
    connector.close()
    assert connector.stats.requests == FAST.max_attempts


def test_invoices_marked_read_by_another_program_are_still_collected(fresh) -> None:
    sim, base = fresh
    window = DateWindow(date(2025, 1, 1), date(2025, 2, 10))
    mailbox = sim.mailboxes["acme"]
    assert mailbox.mark([e.uuid for e in mailbox.entries[::3]], [], True) > 10

    _, records = _collect(base, window)

    assert summarize(records) == mailbox_expected(sim, "acme", window)
    assert not sim.calls_to("MarkInvoice")


def test_test_connection_logs_in_and_out_only(served) -> None:
    sim, base = served
    mark = len(sim.calls)
    result = _connector(base).test_connection()
    assert result.ok and "acme.edm" in result.message
    assert [(c.operation, c.status) for c in _since(sim, mark)] == [("Login", 200), ("Logout", 200)]


def test_test_connection_reports_a_wrong_password(served) -> None:
    _, base = served
    result = _connector(base, password="wrong-one").test_connection()
    assert not result.ok
    assert "username 'acme.edm'" in result.message and "wrong-one" not in result.message


def test_test_connection_reports_an_unreachable_service() -> None:
    connector = EdmConnector(_config("http://127.0.0.1:9"), retry=RetryPolicy(max_attempts=2, base_delay=0.001))
    result = connector.test_connection()
    assert not result.ok and "failed after 2 attempts" in result.message


def test_settings_addresses_and_secrets() -> None:
    assert EdmConnector.service_url(_config("http://127.0.0.1:8403")) == "http://127.0.0.1:8403" + settings.SERVICE_PATH
    assert EdmConnector.service_url(_config("https://edm.example/EFaturaEDM/EFaturaEDM.svc/")) == (
        "https://edm.example/EFaturaEDM/EFaturaEDM.svc"
    )
    test_env = ConnectorConfig(settings={"username": "u", "environment": "test"}, secrets={"password": "p"})
    assert EdmConnector.service_url(test_env) == settings.ENVIRONMENTS["test"]
    production = ConnectorConfig(settings={"username": "u"}, secrets={"password": "p"})
    assert EdmConnector.service_url(production) == "https://portal2.edmbilisim.com.tr/EFaturaEDM/EFaturaEDM.svc"

    connector = build_edm(_config("http://127.0.0.1:8403"))
    assert isinstance(connector, EdmConnector) and connector.streams() == ("invoices",)
    assert ACME.password not in repr(connector) and ACME.password not in repr(connector.client)
    with pytest.raises(ConfigurationError, match="'username'"):
        EdmConnector(ConnectorConfig(settings={"base_url": "http://x"}, secrets={"password": "p"}))
    with pytest.raises(ConfigurationError, match="password"):
        EdmConnector(ConnectorConfig(settings={"username": "u", "base_url": "http://x"}))
    with pytest.raises(ConfigurationError, match="environment"):
        EdmConnector.service_url(ConnectorConfig(settings={"environment": "staging"}))


def test_a_service_ignoring_cr_start_date_is_an_error_not_an_endless_loop() -> None:
    """Every GetInvoice answers the same full page (LIMIT 2): the keyset cannot advance past it."""
    invoices = [i for i in generate_mailbox(3, ACME.vkn, ACME.name, date(2025, 2, 1), 1, (2, 2)) if i.direction == "in"]
    calls: list[str] = []

    async def endpoint(request: Request) -> Response:
        soap = await read_soap_request(request)
        operation = soap.operation.removesuffix("Request")
        calls.append(operation)
        # The contract's form: the answer element in tempuri, its members unqualified.
        response = etree.Element(f"{{http://tempuri.org/}}{operation}Response", nsmap={"tns": "http://tempuri.org/"})
        if operation == "Login":
            etree.SubElement(response, "SESSION_ID").text = str(uuid.uuid4())
        elif operation == "GetInvoice" and len(calls) < 20:
            for invoice in invoices:
                element = etree.SubElement(response, "INVOICE", UUID=invoice.ettn)
                etree.SubElement(etree.SubElement(element, "HEADER"), "CDATE").text = invoice.created_at.isoformat()
                etree.SubElement(element, "CONTENT").text = b64(invoice.xml)
        return soap_response(response)

    app = Starlette(routes=[Route(settings.SERVICE_PATH, endpoint, methods=["POST"])])
    with running(app) as base, pytest.raises(ProviderError, match=r"^edm: GetInvoice ignored CR_START_DATE "):
        _collect(base, DateWindow.single_day(date(2025, 2, 1)), limit=2)
    # page, the same page again, that second's headers, the page once more: then the error
    assert calls == ["Login", "GetInvoice", "GetInvoice", "GetInvoice", "GetInvoice", "Logout"]
