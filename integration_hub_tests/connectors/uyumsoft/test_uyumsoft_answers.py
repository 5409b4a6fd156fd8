"""Answer shapes the simulator does not produce by default, served verbatim over HTTP: lone items, no
``Value``, incomplete bulk answers, unclassified faults and application failures."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integration_hub.connectors.base import AuthenticationError, ConnectorConfig, DateWindow, ProviderError
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.uyumsoft import UyumsoftConnector
from integration_hub.simulators.efatura.documents import generate_mailbox
from integration_hub.simulators.server import running

WINDOW = DateWindow(date(2025, 1, 1), date(2025, 1, 4))
INVOICE, SECOND = [
    i for i in generate_mailbox(5, "1234567803", "Acme A.Ş.", date(2025, 1, 1), 3, (2, 3)) if i.direction == "in"
][:2]
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
    "<s:Body>{body}</s:Body></s:Envelope>"
)


def _result(operation: str, inner: str = "", succeeded: str = "true", message: str = "") -> str:
    return (
        f'<{operation}Response xmlns="http://tempuri.org/"><{operation}Result IsSucceded="{succeeded}" '
        f'Message="{message}">{inner}</{operation}Result></{operation}Response>'
    )


def _fault(code: str, text: str) -> str:
    return f"<s:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring></s:Fault>"


MAX_CALLS = 20  # a client looping on the same page meets a fault here instead of hanging the test
EMPTY_OUTBOX = _result("GetOutboxInvoiceList", '<Value PageIndex="0" PageSize="100" TotalCount="0" TotalPages="0"/>')


class Canned:
    """A fake Integration endpoint answering each operation with a fixed body; counts the calls."""

    def __init__(self, answers: dict[str, str | tuple[int, str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []
        self.app = Starlette(routes=[Route("/Services/Integration", self.endpoint, methods=["POST"])])

    async def endpoint(self, request: Request) -> Response:
        operation = request.headers["SOAPAction"].strip('"').rsplit("/", 1)[-1]
        self.calls.append(operation)
        answer = self.answers[operation] if len(self.calls) <= MAX_CALLS else (500, _fault("s:Server", "call budget"))
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        return Response(ENVELOPE.format(body=body), status, media_type="text/xml; charset=utf-8")


def _collect(
    answers: dict[str, str | tuple[int, str]],
    check: Callable[[UyumsoftConnector, Canned], None],
    **options: int,
) -> None:
    canned = Canned(answers)
    with running(canned.app) as base:
        config = ConnectorConfig(
            settings={"username": "acme.ws", "base_url": base, "requests_per_minute": 10**6},
            secrets={"password": "pa55word"},
        )
        check(UyumsoftConnector(config, retry=RetryPolicy(max_attempts=4, base_delay=0.001), **options), canned)


def test_no_value_is_an_empty_listing() -> None:
    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        assert list(connector.collect("invoices", WINDOW)) == []
        assert canned.calls == ["GetInboxInvoiceList", "GetOutboxInvoiceList"]
        assert connector.stats.reported_counts == {"invoice": 0}

    _collect({"GetInboxInvoiceList": _result("GetInboxInvoiceList"), "GetOutboxInvoiceList": EMPTY_OUTBOX}, check)


def test_a_lone_item_without_items_wrapper_or_total_pages_is_collected() -> None:
    listing = _result(
        "GetInboxInvoiceList",
        f'<Value PageIndex="0" PageSize="100" TotalCount="1"><InboxInvoiceListItem InvoiceId="{INVOICE.ettn.upper()}" '
        f'DocumentId="{INVOICE.number}" Status="WaitingForAprovement"/></Value>',
    )
    data = _result(
        "GetInboxInvoicesData",
        f'<Value PageIndex="0" PageSize="1" TotalCount="1" TotalPages="1"><Items><InvoiceData '
        f'InvoiceId="{INVOICE.ettn.upper()}"><Data>{base64.b64encode(INVOICE.xml).decode()}</Data></InvoiceData>'
        "</Items></Value>",
    )

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        records = list(connector.collect("invoices", WINDOW))
        assert [r.external_key for r in records if r.record_type == "invoice"] == [f"{INVOICE.ettn}:in"]
        assert sum(r.record_type == "invoice_line" for r in records) == INVOICE.line_count
        assert canned.calls == ["GetInboxInvoiceList", "GetInboxInvoicesData", "GetOutboxInvoiceList"]

    _collect(
        {"GetInboxInvoiceList": listing, "GetInboxInvoicesData": data, "GetOutboxInvoiceList": EMPTY_OUTBOX}, check
    )


def test_a_listing_without_total_count_reports_no_total_rather_than_zero() -> None:
    """No TotalCount on the inbox listing: the window has no provider total (the outbox's 0 would be a
    total of one direction only), so the asset's count check is not fed a number nobody reported."""
    listing = _result(
        "GetInboxInvoiceList",
        f'<Value PageIndex="0" PageSize="100"><Items><InboxInvoiceListItem InvoiceId="{INVOICE.ettn}"/>'
        "</Items></Value>",
    )

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        records = list(connector.collect("invoices", WINDOW))
        assert [r.external_key for r in records if r.record_type == "invoice"] == [f"{INVOICE.ettn}:in"]
        assert connector.stats.reported_counts == {}

    answers = {
        "GetInboxInvoiceList": listing,
        "GetInboxInvoicesData": _documents("", (INVOICE,)),
        "GetOutboxInvoiceList": EMPTY_OUTBOX,
    }
    _collect(answers, check)


def test_a_bulk_answer_missing_a_requested_document_fails_loudly() -> None:
    listing = _result(
        "GetInboxInvoiceList",
        f'<Value PageIndex="0" PageSize="100" TotalCount="1" TotalPages="1"><Items>'
        f'<InboxInvoiceListItem InvoiceId="{INVOICE.ettn}"/></Items></Value>',
    )
    silent = _result("GetInboxInvoicesData", '<Value PageIndex="0" PageSize="1" TotalCount="0" TotalPages="0"/>')

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        with pytest.raises(ProviderError, match=f"returned 0 of 1 requested documents .*{INVOICE.ettn}"):
            list(connector.collect("invoices", WINDOW))

    _collect({"GetInboxInvoiceList": listing, "GetInboxInvoicesData": silent}, check)


def test_a_bulk_answer_labelling_one_document_with_two_ids_fails_instead_of_losing_one() -> None:
    """Both requested InvoiceIds answered, but both carry the first invoice's UBL: the labels match the
    request, the documents do not, and de-duplicating by ETTN would silently drop the second invoice."""
    listing = _result(
        "GetInboxInvoiceList",
        f'<Value PageIndex="0" PageSize="100" TotalCount="2" TotalPages="1"><Items>'
        f'<InboxInvoiceListItem InvoiceId="{INVOICE.ettn}"/><InboxInvoiceListItem InvoiceId="{SECOND.ettn}"/>'
        "</Items></Value>",
    )
    data = base64.b64encode(INVOICE.xml).decode()
    doubled = _result(
        "GetInboxInvoicesData",
        f'<Value PageIndex="0" PageSize="2" TotalCount="2" TotalPages="1"><Items>'
        f'<InvoiceData InvoiceId="{INVOICE.ettn}"><Data>{data}</Data></InvoiceData>'
        f'<InvoiceData InvoiceId="{SECOND.ettn}"><Data>{data}</Data></InvoiceData></Items></Value>',
    )

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        with pytest.raises(ProviderError) as caught:
            list(connector.collect("invoices", WINDOW))
        assert str(caught.value) == (
            f"uyumsoft: GetInboxInvoicesData for 2 ETTN(s) held 2 invoice(s), missing e.g. {SECOND.ettn}, "
            f"repeated e.g. {INVOICE.ettn}"
        )
        assert canned.calls == ["GetInboxInvoiceList", "GetInboxInvoicesData"]

    _collect({"GetInboxInvoiceList": listing, "GetInboxInvoicesData": doubled}, check)


def _two_listed(totals: str) -> str:
    return _result(
        "GetInboxInvoiceList",
        f'<Value PageIndex="0" PageSize="2" {totals}><Items><InboxInvoiceListItem InvoiceId="{INVOICE.ettn}"/>'
        f'<InboxInvoiceListItem InvoiceId="{SECOND.ettn}"/></Items></Value>',
    )


def _documents(totals: str, invoices: tuple = (INVOICE, SECOND)) -> str:
    items = "".join(
        f'<InvoiceData InvoiceId="{i.ettn}"><Data>{base64.b64encode(i.xml).decode()}</Data></InvoiceData>'
        for i in invoices
    )
    return _result("GetInboxInvoicesData", f'<Value PageIndex="0" PageSize="2" {totals}><Items>{items}</Items></Value>')


@pytest.mark.parametrize("totals", ["", 'TotalCount="7"', 'TotalCount="7" TotalPages="4"'])
def test_a_listing_that_ignores_page_index_fails_instead_of_looping(totals) -> None:
    """Every page answers the same two rows: a full page with nothing new is an error on the second call."""

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        with pytest.raises(ProviderError) as caught:
            list(connector.collect("invoices", WINDOW))
        assert str(caught.value) == (
            "uyumsoft GetInboxInvoiceList: page 1 holds only invoices of earlier pages; the service seems to "
            "ignore PageIndex, stopping instead of asking again"
        )
        assert canned.calls == ["GetInboxInvoiceList"] * 2

    _collect(
        {"GetInboxInvoiceList": _two_listed(totals), "GetInboxInvoicesData": _documents("")},
        check,
        list_page_size=2,
    )


def test_total_count_caps_the_listing_and_a_complete_bulk_answer_ends_the_download() -> None:
    """TotalCount=2 without TotalPages: two rows are the whole listing (no third empty-page call); the bulk
    answer without totals holds every ETTN asked for, so its next page is never asked for either."""

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        records = list(connector.collect("invoices", WINDOW))
        assert {r.external_key for r in records if r.record_type == "invoice"} == {
            f"{INVOICE.ettn}:in",
            f"{SECOND.ettn}:in",
        }
        assert canned.calls == ["GetInboxInvoiceList", "GetInboxInvoicesData", "GetOutboxInvoiceList"]
        assert connector.stats.reported_counts == {"invoice": 2}

    answers = {
        "GetInboxInvoiceList": _two_listed('TotalCount="2"'),
        "GetInboxInvoicesData": _documents(""),
        "GetOutboxInvoiceList": EMPTY_OUTBOX,
    }
    _collect(answers, check, list_page_size=2)


def test_bad_base64_is_a_provider_error() -> None:
    listing = _result(
        "GetInboxInvoiceList",
        f'<Value TotalCount="1" TotalPages="1"><Items><InboxInvoiceListItem InvoiceId="{INVOICE.ettn}"/></Items>'
        "</Value>",
    )
    data = _result(
        "GetInboxInvoicesData",
        f'<Value TotalCount="1" TotalPages="1"><Items><InvoiceData InvoiceId="{INVOICE.ettn}"><Data>@@not base64@@'
        "</Data></InvoiceData></Items></Value>",
    )

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        with pytest.raises(ProviderError, match="is not base64"):
            list(connector.collect("invoices", WINDOW))

    _collect({"GetInboxInvoiceList": listing, "GetInboxInvoicesData": data}, check)


@pytest.mark.parametrize(
    ("answer", "error", "pattern"),
    [
        (
            (500, _fault("s:Server", "Beklenmeyen bir hata oluştu")),
            ProviderError,
            "uyumsoft: SOAP fault s:Server: Beklenmeyen bir hata oluştu",
        ),
        (
            _result("GetInboxInvoiceList", succeeded="false", message="Tarih aralığı 31 günü geçemez"),
            ProviderError,
            "GetInboxInvoiceList failed: Tarih aralığı 31 günü geçemez",
        ),
        (
            (
                500,
                _fault(
                    "s:Client",
                    "Object reference not set to an instance of an object. at AuthorizedServiceMethodAttribute",
                ),
            ),
            AuthenticationError,
            "username 'acme.ws' or its password was rejected",
        ),
        (
            (500, _fault("a:InvalidSecurity", "An error occurred when verifying security for the message.")),
            AuthenticationError,
            "username 'acme.ws' or its password was rejected .*InvalidSecurity",
        ),
    ],
)
def test_faults_and_failures_are_classified_and_never_retried(answer, error, pattern) -> None:
    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        with pytest.raises(error, match=pattern) as caught:
            list(connector.collect("invoices", WINDOW))
        assert "pa55word" not in str(caught.value)
        assert canned.calls == ["GetInboxInvoiceList"]

    _collect({"GetInboxInvoiceList": answer}, check)
