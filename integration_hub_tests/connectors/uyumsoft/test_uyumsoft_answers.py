"""Answers the simulator does not produce by default, served verbatim over HTTP: no ``Value``, a lone row,
missing totals, incomplete or mislabelled bulk answers, unclassified faults and application failures.

Every answer here is valid against Uyumsoft's XSDs (checked in :class:`Canned` before it is served)
unless its test says it is deliberately bad input (``BAD_INPUT``): the client is proven against shapes
the contract allows, and its errors against shapes it does not."""

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
from integration_hub_tests.connectors.uyumsoft.contract import body_element, errors

WINDOW = DateWindow(date(2025, 1, 1), date(2025, 1, 4))
INVOICE, SECOND = [
    i for i in generate_mailbox(5, "1234567803", "Acme A.Ş.", date(2025, 1, 1), 3, (2, 3)) if i.direction == "in"
][:2]
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
    "<s:Body>{body}</s:Body></s:Envelope>"
)


def _result(operation: str, inner: str = "", succeeded: str = "true", message: str = "") -> str:
    """``<OpResponse><OpResult IsSucceded Message>inner</OpResult></OpResponse>`` in the service namespace."""
    return (
        f'<{operation}Response xmlns="http://tempuri.org/"><{operation}Result IsSucceded="{succeeded}" '
        f'Message="{message}">{inner}</{operation}Result></{operation}Response>'
    )


def _fault(code: str, text: str) -> str:
    return f"<s:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring></s:Fault>"


def _row(invoice, *, fields: str = "") -> str:
    """One ``InboxInvoiceListItem`` (``Items``): every ``minOccurs="1"`` field of ``InvoiceListItemBase``
    in the XSD's order, then ``IsNew``. ``fields`` replaces the optional InvoiceId/DocumentId."""
    head = fields if fields else f"<InvoiceId>{invoice.ettn}</InvoiceId><DocumentId>{invoice.number}</DocumentId>"
    vat = "".join(f"<Vat{r}>0</Vat{r}>" for r in (1, 8, 18))
    taxable = "".join(f"<Vat{r}TaxableAmount>0</Vat{r}TaxableAmount>" for r in (0, 1, 8, 18))
    return (
        f"<Items>{head}<Type>BaseInvoice</Type><TypeCode>1</TypeCode><Status>WaitingForAprovement</Status>"
        "<StatusCode>1400</StatusCode><EnvelopeStatus>CompletedSuccessfully</EnvelopeStatus>"
        "<EnvelopeStatusCode>1300</EnvelopeStatusCode><CreateDateUtc>2025-01-02T08:00:00</CreateDateUtc>"
        "<ExecutionDate>2025-01-02T09:30:00</ExecutionDate><PayableAmount>118.00</PayableAmount>"
        "<TaxTotal>18.00</TaxTotal><TaxExclusiveAmount>100.00</TaxExclusiveAmount>"
        f"<ExchangeRate>1</ExchangeRate>{vat}{taxable}<IsArchived>false</IsArchived>"
        "<InvoiceTipType>Sales</InvoiceTipType><InvoiceTipTypeCode>1</InvoiceTipTypeCode><IsNew>true</IsNew></Items>"
    )


def _data(invoice, payload: str | None = None) -> str:
    """One ``InvoiceData`` (``Items``): ``InvoiceId`` attribute, base64 ``Data`` child."""
    encoded = base64.b64encode(invoice.xml).decode() if payload is None else payload
    return f'<Items InvoiceId="{invoice.ettn}"><Data>{encoded}</Data></Items>'


MAX_CALLS = 20  # a client looping on the same page meets a fault here instead of hanging the test
EMPTY_OUTBOX = _result("GetOutboxInvoiceList", '<Value PageIndex="0" PageSize="100" TotalCount="0" TotalPages="0"/>')
BAD_INPUT = "bad input"  # marks an answer that deliberately breaks the XSD


class Canned:
    """A fake Integration endpoint answering each operation with a fixed body; counts the calls.

    Each answer body must be XSD-valid unless its operation is listed in ``bad_input`` (a test of how the
    client treats what the contract does not allow)."""

    def __init__(self, answers: dict[str, str | tuple[int, str]], bad_input: tuple[str, ...] = ()) -> None:
        for operation, answer in answers.items():
            status, body = answer if isinstance(answer, tuple) else (200, answer)
            if status == 200 and operation not in bad_input:
                element = body_element(ENVELOPE.format(body=body).encode())
                assert errors(element) == [], f"canned {operation} answer is not XSD-valid"
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
    bad_input: tuple[str, ...] = (),
    **options: int,
) -> None:
    canned = Canned(answers, bad_input)
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


def test_a_lone_row_without_total_pages_is_collected() -> None:
    """One ``Items`` row (no array around it on the wire) and only ``TotalCount``: TotalPages is required
    by the XSD, so this listing is labelled bad input; the client still takes the one row it holds."""
    listing = _result(
        "GetInboxInvoiceList", f'<Value PageIndex="0" PageSize="100" TotalCount="1">{_row(INVOICE)}</Value>'
    )
    data = _result(
        "GetInboxInvoicesData",
        f'<Value PageIndex="0" PageSize="1" TotalCount="1" TotalPages="1">{_data(INVOICE)}</Value>',
    )

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        records = list(connector.collect("invoices", WINDOW))
        assert [r.external_key for r in records if r.record_type == "invoice"] == [f"{INVOICE.ettn}:in"]
        assert sum(r.record_type == "invoice_line" for r in records) == INVOICE.line_count
        assert canned.calls == ["GetInboxInvoiceList", "GetInboxInvoicesData", "GetOutboxInvoiceList"]

    _collect(
        {"GetInboxInvoiceList": listing, "GetInboxInvoicesData": data, "GetOutboxInvoiceList": EMPTY_OUTBOX},
        check,
        bad_input=("GetInboxInvoiceList",),
    )


def test_every_row_of_a_listing_is_one_invoice_with_its_fields_as_children() -> None:
    """Two XSD-valid rows of 31 child fields each are two invoices (not 31 rows of the first one)."""
    listing = _result(
        "GetInboxInvoiceList",
        f'<Value PageIndex="0" PageSize="100" TotalCount="2" TotalPages="1">{_row(INVOICE)}{_row(SECOND)}</Value>',
    )

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        records = list(connector.collect("invoices", WINDOW))
        assert sorted(r.external_key for r in records if r.record_type == "invoice") == sorted(
            [f"{INVOICE.ettn}:in", f"{SECOND.ettn}:in"]
        )
        assert connector.stats.reported_counts == {"invoice": 2}

    answers = {
        "GetInboxInvoiceList": listing,
        "GetInboxInvoicesData": _documents('TotalCount="2" TotalPages="1"'),
        "GetOutboxInvoiceList": EMPTY_OUTBOX,
    }
    _collect(answers, check)


def test_a_listed_row_without_invoice_id_is_a_provider_error() -> None:
    """``InvoiceId`` is optional in the XSD, but a row without it cannot be downloaded: a clear error."""
    listing = _result(
        "GetInboxInvoiceList",
        '<Value PageIndex="0" PageSize="100" TotalCount="1" TotalPages="1">'
        f"{_row(INVOICE, fields=f'<DocumentId>{INVOICE.number}</DocumentId>')}</Value>",
    )

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        with pytest.raises(ProviderError, match="GetInboxInvoiceList: a listed invoice has no InvoiceId"):
            list(connector.collect("invoices", WINDOW))

    _collect({"GetInboxInvoiceList": listing}, check)


def test_a_listing_without_total_count_reports_no_total_rather_than_zero() -> None:
    """No TotalCount on the inbox listing: the window has no provider total (the outbox's 0 would be a
    total of one direction only), so the asset's count check is not fed a number nobody reported."""
    listing = _result("GetInboxInvoiceList", f'<Value PageIndex="0" PageSize="100">{_row(INVOICE)}</Value>')

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        records = list(connector.collect("invoices", WINDOW))
        assert [r.external_key for r in records if r.record_type == "invoice"] == [f"{INVOICE.ettn}:in"]
        assert connector.stats.reported_counts == {}

    answers = {
        "GetInboxInvoiceList": listing,
        "GetInboxInvoicesData": _documents("", (INVOICE,)),
        "GetOutboxInvoiceList": EMPTY_OUTBOX,
    }
    # Bad input: the XSD requires TotalCount and TotalPages on every page.
    _collect(answers, check, bad_input=("GetInboxInvoiceList", "GetInboxInvoicesData"))


def test_a_bulk_answer_missing_a_requested_document_fails_loudly() -> None:
    listing = _result(
        "GetInboxInvoiceList",
        f'<Value PageIndex="0" PageSize="100" TotalCount="1" TotalPages="1">{_row(INVOICE)}</Value>',
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
        f'<Value PageIndex="0" PageSize="100" TotalCount="2" TotalPages="1">{_row(INVOICE)}{_row(SECOND)}</Value>',
    )
    data = base64.b64encode(INVOICE.xml).decode()
    doubled = _result(
        "GetInboxInvoicesData",
        '<Value PageIndex="0" PageSize="2" TotalCount="2" TotalPages="1">'
        f"{_data(INVOICE)}{_data(SECOND, data)}</Value>",
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
        "GetInboxInvoiceList", f'<Value PageIndex="0" PageSize="2" {totals}>{_row(INVOICE)}{_row(SECOND)}</Value>'
    )


def _documents(totals: str, invoices: tuple = (INVOICE, SECOND)) -> str:
    items = "".join(_data(i) for i in invoices)
    return _result("GetInboxInvoicesData", f'<Value PageIndex="0" PageSize="2" {totals}>{items}</Value>')


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

    answers = {"GetInboxInvoiceList": _two_listed(totals), "GetInboxInvoicesData": _documents("")}
    # Bad input unless both totals are there (the XSD requires them).
    _collect(
        answers,
        check,
        bad_input=tuple(answers) if "TotalPages" not in totals else ("GetInboxInvoicesData",),
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
    # Bad input: pages without TotalPages (both) — how the client copes when a deployment leaves them out.
    _collect(answers, check, bad_input=("GetInboxInvoiceList", "GetInboxInvoicesData"), list_page_size=2)


def test_bad_base64_is_a_provider_error() -> None:
    listing = _result(
        "GetInboxInvoiceList",
        f'<Value PageIndex="0" PageSize="100" TotalCount="1" TotalPages="1">{_row(INVOICE)}</Value>',
    )
    data = _result(
        "GetInboxInvoicesData",
        f'<Value PageIndex="0" PageSize="1" TotalCount="1" TotalPages="1">{_data(INVOICE, "@@not base64@@")}</Value>',
    )

    def check(connector: UyumsoftConnector, canned: Canned) -> None:
        with pytest.raises(ProviderError, match="is not base64"):
            list(connector.collect("invoices", WINDOW))

    # Bad input: Data is xs:base64Binary.
    _collect({"GetInboxInvoiceList": listing, "GetInboxInvoicesData": data}, check, bad_input=("GetInboxInvoicesData",))


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
