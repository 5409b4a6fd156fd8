"""The İşNet connector against the İşNet simulator over HTTP on 127.0.0.1."""

from __future__ import annotations

from datetime import date, datetime

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
)
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.isnet import IsnetConnector, build_isnet, settings
from integration_hub.connectors.isnet.client import data_contract
from integration_hub.simulators.efatura.documents import b64, generate_mailbox
from integration_hub.simulators.efatura.soap import read_soap_request, soap_response
from integration_hub.simulators.isnet import SERVICE_PATH, TEST_VKN, IsnetSimulator
from integration_hub.simulators.isnet.contract import ANSWER_MODELS, DATE_READINGS
from integration_hub.simulators.server import running
from integration_hub_tests.support.efatura_expectations import (
    check_injected_503s,
    check_persistent_503s,
    check_random_503s,
    expected,
    mailbox_expected,
    summarize,
)

WALLED = "5555555555"
START = date(2025, 1, 1)
WINDOW = DateWindow(date(2025, 1, 15), date(2025, 3, 16))  # 60 days
FAST = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.003)
ALL_ON = {"IsAdditionalTaxIncluded": False, "IsArchiveIncluded": True, "IsInvoiceDetailIncluded": False}


def _sim(**options) -> IsnetSimulator:
    defaults = {"seed": 31, "start": START, "days": 90, "per_day": (2, 6), "walled": {WALLED: frozenset({"10.9.9.9"})}}
    return IsnetSimulator(**{**defaults, **options})


@pytest.fixture(scope="module")
def served():
    sim = _sim()
    with running(sim.app) as base:
        yield sim, base


def _config(base: str, vkn: str = TEST_VKN, **extra) -> ConnectorConfig:
    return ConnectorConfig(settings={"vkn": vkn, "base_url": base, "requests_per_minute": 600000, **extra})


def _connector(base: str, vkn: str = TEST_VKN, **kwargs) -> IsnetConnector:
    return IsnetConnector(_config(base, vkn), retry=FAST, **kwargs)


def _pages(count: int, size: int = settings.RECORDS_PER_PAGE) -> int:
    return max(1, -(-count // size))


def test_sixty_day_window_yields_exactly_the_simulators_invoices_with_fewest_requests(served) -> None:
    sim, base = served
    before = len(sim.calls)
    connector = _connector(base)
    records = list(connector.collect("invoices", WINDOW))

    incoming, outgoing = sim.invoices("c1", "in", WINDOW), sim.invoices("c1", "out", WINDOW)
    assert len(incoming) > 100 and len(outgoing) > 100  # more than one page each
    assert any(sim.is_archived(i) for i in incoming + outgoing)  # archived ones are included too
    assert summarize(records, WINDOW) == expected(incoming + outgoing)
    assert len(records) == len(incoming) + len(outgoing) + sum(i.line_count for i in incoming + outgoing)

    calls = sim.calls[before:]
    assert len(calls) == _pages(len(incoming)) + _pages(len(outgoing)) == connector.stats.requests
    assert connector.stats.pages == len(calls) and connector.stats.retries == 0
    assert connector.stats.reported_counts == {"invoice": len(incoming) + len(outgoing)}
    assert all(c.operation == "SearchInvoice" and c.outcome == "Success" for c in calls)
    # every member was read (alphabetical order honoured), never an ETTN filter, XML inline, 1-based pages
    assert all(c.ignored == [] for c in calls)
    assert all("ETTN" not in c.params and c.params["CompanyTaxCode"] == TEST_VKN for c in calls)
    assert all(c.params["ResultSet"] == {**ALL_ON, "IsXMLIncluded": True} for c in calls)
    pages_in = [c.params["PagingRequest"]["PageNumber"] for c in calls if c.params["InvoiceDirection"] == "Incoming"]
    assert pages_in == list(range(1, _pages(len(incoming)) + 1))
    assert {(c.params["MinInvoiceDate"], c.params["MaxInvoiceDate"]) for c in calls} == {
        (datetime(2025, 1, 15), datetime(2025, 3, 15, 23, 59, 59))
    }


@pytest.mark.parametrize("answer_model", ANSWER_MODELS)
@pytest.mark.parametrize("dates", DATE_READINGS)
def test_every_reading_of_the_contract_yields_the_whole_window(answer_model: str, dates: str) -> None:
    """The sources disagree on the answer model (``Result`` enum or object, paging names) and on how the
    date filters compare (dates, or issue date and time): the connector is exact under each reading,
    the last day's invoices, issued during the day, included."""
    sim = _sim(answer_model=answer_model, dates=dates, per_day=(0, 3))
    window = DateWindow(date(2025, 2, 1), date(2025, 2, 28))
    with running(sim.app) as base:
        connector = _connector(base, records_per_page=10)
        records = list(connector.collect("invoices", window))
    last_day = [i for i in sim.mailbox("c1") if i.issue_date == window.last]
    assert last_day and all(i.spec.issue_time.hour > 0 for i in last_day)
    assert summarize(records, window) == mailbox_expected(sim, "c1", window)
    assert connector.stats.reported_counts == {
        "invoice": len(sim.invoices("c1", "in", window) + sim.invoices("c1", "out", window))
    }
    assert connector.stats.requests > 2  # several pages each way


def test_a_service_that_clamps_the_page_size_is_followed_by_its_paging_response() -> None:
    sim = _sim(max_page_size=30, per_day=(0, 2))
    with running(sim.app) as base:
        connector = _connector(base)
        records = list(connector.collect("invoices", WINDOW))
    incoming, outgoing = sim.invoices("c1", "in", WINDOW), sim.invoices("c1", "out", WINDOW)
    assert summarize(records, WINDOW) == mailbox_expected(sim, "c1", WINDOW)
    assert connector.stats.requests == _pages(len(incoming), 30) + _pages(len(outgoing), 30) > 2


def test_empty_window_costs_one_request_per_direction(served) -> None:
    sim, base = served
    before = len(sim.calls)
    assert list(_connector(base).collect("invoices", DateWindow.single_day(date(2030, 1, 1)))) == []
    assert [c.params["InvoiceDirection"] for c in sim.calls[before:]] == ["Incoming", "Outgoing"]


@pytest.mark.parametrize("answer_model", ANSWER_MODELS)
def test_unknown_vkn_is_an_authentication_error_naming_the_vkn_not_retried(answer_model: str) -> None:
    """Under either answer model (``Result`` enum + sibling ``ErrorMessage``, or ``Result{IsSuccess,
    ErrorMessage}``) the failure is seen, with İşNet's own message, and not taken for an empty page."""
    sim = _sim(answer_model=answer_model, days=2)
    with running(sim.app) as base:
        connector = _connector(base, vkn="1111111111")
        with pytest.raises(AuthenticationError) as caught:
            list(connector.collect("invoices", WINDOW))
    message = str(caught.value)
    assert "\n" not in message and "VKN 1111111111" in message and "check the 'vkn' setting" in message
    assert "1111111111 vergi numaralı firma bulunamadı." in message
    assert len(sim.calls) == 1 and connector.stats.retries == 0


def test_unwhitelisted_ip_is_an_authentication_error(served) -> None:
    _, base = served
    with pytest.raises(AuthenticationError, match=rf"VKN {WALLED}.*whitelisted"):
        list(_connector(base, vkn=WALLED).collect("invoices", WINDOW))


def test_injected_503s_are_retried_and_the_result_is_still_exact(served) -> None:
    sim, base = served
    check_injected_503s(sim, _connector(base), "c1", WINDOW)


def test_random_503s_are_retried_too() -> None:
    sim = _sim(fail_rate=0.3, per_day=(0, 3))
    with running(sim.app) as base:
        check_random_503s(sim, _connector(base), "c1", WINDOW)


def test_persistent_503s_give_up_with_a_transient_error(served) -> None:
    sim, base = served
    check_persistent_503s(sim, _connector(base), WINDOW, FAST.max_attempts)


def test_no_state_changing_operation_is_ever_called(served) -> None:
    sim, base = served
    connector = _connector(base)
    assert connector.test_connection().ok
    assert list(connector.collect("invoices", DateWindow.single_day(date(2025, 2, 3))))
    assert sim.calls and {c.operation for c in sim.calls} == {"SearchInvoice"}
    assert not any(c.operation in sim.STATE_CHANGING_OPERATIONS for c in sim.calls)


def test_test_connection_ok_and_failed(served) -> None:
    sim, base = served
    before = len(sim.calls)
    result = _connector(base).test_connection()
    assert result.ok and result.message == f"Connected to İşNet for VKN {TEST_VKN}"
    call = sim.calls[before]
    assert call.params["PagingRequest"] == {"PageNumber": 1, "RecordsPerPage": 1}
    assert call.params["ResultSet"]["IsXMLIncluded"] is False
    failed = _connector(base, vkn="1111111111").test_connection()
    assert not failed.ok and "VKN 1111111111" in failed.message and "check the 'vkn' setting" in failed.message


FAILED_ENUM = "failed-enum"
FAILED_OBJECT = "failed-object"
NO_RESULT = "no-result"


def test_broken_and_failed_answers_are_one_line_provider_errors() -> None:
    """A service answering base64 (the WSDL's ``xs:base64Binary``), then inline XML, non-base64, no
    ``InvoiceXml``, a failure in each answer model, and an answer that says neither Success nor Failed."""
    model = settings.MODEL_NAMESPACE
    answers = iter(
        [b64(b"<Invoice/>"), "<Invoice>inline</Invoice>", "%%%", None, FAILED_ENUM, FAILED_OBJECT, NO_RESULT]
    )

    async def endpoint(request: Request) -> Response:
        await read_soap_request(request)
        answer = next(answers)
        response = etree.Element(etree.QName(settings.SERVICE_NAMESPACE, "SearchInvoiceResponse"))
        result = etree.SubElement(response, etree.QName(settings.SERVICE_NAMESPACE, "SearchInvoiceResult"))
        if answer == FAILED_ENUM:
            data_contract(result, {"ErrorMessage": "Beklenmeyen bir hata oluştu.", "Result": "Failed"})
        elif answer == FAILED_OBJECT:
            data_contract(result, {"Result": {"ErrorMessage": "Servis hatası.", "IsSuccess": False}})
        else:
            invoice = etree.SubElement(
                etree.SubElement(result, etree.QName(model, "Invoices")), etree.QName(model, "Invoice")
            )
            etree.SubElement(invoice, etree.QName(model, "ETTN")).text = "A"
            if answer is not None and answer != NO_RESULT:
                etree.SubElement(invoice, etree.QName(model, "InvoiceXml")).text = answer
            if answer != NO_RESULT:
                etree.SubElement(result, etree.QName(model, "Result")).text = "Success"
        return soap_response(response)

    app = Starlette(routes=[Route(SERVICE_PATH, endpoint, methods=["POST"])])
    window = DateWindow.single_day(date(2025, 2, 1))
    with running(app) as base:
        assert list(_connector(base).fetch_documents("in", window)) == [b"<Invoice/>"]
        for message in (
            "InvoiceXml of A is not base64",
            "InvoiceXml of A is not base64",
            "came without InvoiceXml",
            "SearchInvoice failed: Beklenmeyen bir hata oluştu.",
            "SearchInvoice failed: Servis hatası.",
            "SearchInvoice answer says neither Success nor Failed",
        ):
            with pytest.raises(ProviderError) as caught:
                list(_connector(base).fetch_documents("in", window))
            assert message in str(caught.value) and type(caught.value) is ProviderError
            assert "\n" not in str(caught.value)


EMPTY_PAGE: tuple[list[int], dict[str, int]] = (
    [],
    {"PageNumber": 1, "TotalNumberOfPages": 1, "TotalNumberOfRecords": 0},
)


class PagedAnswers:
    """An İşNet endpoint answering incoming page N with ``pages[N]``: ``(invoice indexes, PagingResponse
    or None)`` with the WSDL's paging names; outgoing is one empty page. Invoices are real UBL
    documents, base64 inline."""

    def __init__(self, pages: dict[int, tuple[list[int], dict[str, int] | None]]) -> None:
        mailbox = generate_mailbox(4, TEST_VKN, "Acme A.Ş.", date(2025, 2, 1), 1, (5, 5))
        self.invoices = [i for i in mailbox if i.direction == "in"]
        self.pages = pages
        self.asked: list[int] = []
        self.records: list = []
        self.app = Starlette(routes=[Route(SERVICE_PATH, self.endpoint, methods=["POST"])])

    async def endpoint(self, request: Request) -> Response:
        soap = await read_soap_request(request)
        model = settings.MODEL_NAMESPACE
        number = int(soap.operation_element.findtext(f".//{{{model}}}PageNumber"))
        incoming = soap.operation_element.findtext(f".//{{{model}}}InvoiceDirection") == "Incoming"
        indexes, paging = self.pages[number] if incoming else EMPTY_PAGE
        if incoming:
            self.asked.append(number)
        response = etree.Element(etree.QName(settings.SERVICE_NAMESPACE, "SearchInvoiceResponse"))
        result = etree.SubElement(response, etree.QName(settings.SERVICE_NAMESPACE, "SearchInvoiceResult"))
        invoices = etree.SubElement(result, etree.QName(model, "Invoices"))
        for index in indexes:
            invoice = etree.SubElement(invoices, etree.QName(model, "Invoice"))
            etree.SubElement(invoice, etree.QName(model, "ETTN")).text = self.invoices[index].ettn
            etree.SubElement(invoice, etree.QName(model, "InvoiceXml")).text = b64(self.invoices[index].xml)
        etree.SubElement(result, etree.QName(model, "Result")).text = "Success"
        if paging is not None:
            data_contract(etree.SubElement(result, etree.QName(model, "PagingResponse")), paging)
        return soap_response(response)


def _paging(page: int, pages: int, total: int) -> dict[str, int]:
    """A PagingResponse as WSDL_TYPES:PagingResponse.ts names its members."""
    return {"PageNumber": page, "RecordsPerPage": 2, "TotalNumberOfPages": pages, "TotalNumberOfRecords": total}


def _collect_paged(pages: dict[int, tuple[list[int], dict[str, int] | None]]) -> tuple[PagedAnswers, IsnetConnector]:
    fake = PagedAnswers(pages)
    with running(fake.app) as base:
        connector = _connector(base, records_per_page=2)
        fake.records = list(connector.collect("invoices", DateWindow.single_day(date(2025, 2, 1))))
    return fake, connector


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ({1: ([0, 1], None)}, "page 1 is full (2 invoices) but the answer has no PagingResponse"),
        (
            {n: ([0, 1] if n == 1 else [], _paging(n, 3, 5)) for n in (1, 2, 3)},
            "page 2 of 3 is empty; later pages would be lost",
        ),
        (
            {n: ([0, 1], _paging(1, 3, 5)) for n in (1, 2, 3)},
            "asked for page 2, got page 1",
        ),
        (
            {n: ([0, 1], {"TotalNumberOfPages": 3, "TotalNumberOfRecords": 5}) for n in (1, 2, 3)},
            "page 2 repeats invoices",
        ),
    ],
)
def test_paging_that_would_silently_truncate_the_listing_is_a_provider_error(pages, message) -> None:
    with pytest.raises(ProviderError) as caught:
        _collect_paged(pages)
    assert str(caught.value).startswith("isnet: SearchInvoice Incoming: ") and message in str(caught.value)


def test_strict_paging_still_collects_sound_answers_and_never_guesses_a_total() -> None:
    paged = {n: ([2 * n - 2, 2 * n - 1][: 5 - 2 * (n - 1)], _paging(n, 3, 5)) for n in (1, 2, 3)}
    fake, connector = _collect_paged(paged)
    assert fake.asked == [1, 2, 3] and summarize(fake.records) == expected(fake.invoices)
    assert connector.stats.reported_counts == {"invoice": 5}
    short, connector = _collect_paged({1: ([0], None)})  # shorter than asked, no PagingResponse: the last page
    assert short.asked == [1] and summarize(short.records) == expected(short.invoices[:1])
    assert connector.stats.reported_counts == {}  # no TotalRecords: no total, not the page length


def test_service_url_rules() -> None:
    assert IsnetConnector.service_url(ConnectorConfig(settings={"base_url": "http://127.0.0.1:9000"})) == (
        "http://127.0.0.1:9000/InvoiceService/ServiceContract/InvoiceService.svc"
    )
    custom = "https://isnet.example/Other/InvoiceService.svc"
    assert IsnetConnector.service_url(ConnectorConfig(settings={"base_url": custom})) == custom
    assert (
        IsnetConnector.service_url(ConnectorConfig(settings={"environment": "test"})) == settings.ENVIRONMENTS["test"]
    )
    assert IsnetConnector.service_url(ConnectorConfig(settings={})) == settings.ENVIRONMENTS["production"]


def test_configuration_errors_are_one_line() -> None:
    with pytest.raises(ConfigurationError, match="'vkn' setting must be"):
        IsnetConnector(ConnectorConfig(settings={}))
    with pytest.raises(ConfigurationError, match="base_url must start with"):
        IsnetConnector(ConnectorConfig(settings={"vkn": TEST_VKN, "base_url": "ftp://x"}))
    with pytest.raises(ConfigurationError, match="requests_per_minute must be a number"):
        IsnetConnector(ConnectorConfig(settings={"vkn": TEST_VKN, "requests_per_minute": "fast"}))


def test_factory_builds_the_invoices_connector(served) -> None:
    _, base = served
    connector = build_isnet(_config(base))
    assert isinstance(connector, IsnetConnector) and connector.streams() == ("invoices",)
    connector.close()
