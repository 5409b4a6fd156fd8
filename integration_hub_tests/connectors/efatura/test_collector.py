"""What every e-invoice connector inherits from the collector: the service-URL rule and how documents
dated outside the window are dropped (counted, not kept)."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integration_hub.connectors.base import ConfigurationError, ConnectorConfig, DateWindow
from integration_hub.connectors.crs_soft import CrsSoftConnector
from integration_hub.connectors.edm import EdmConnector
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.isnet import IsnetConnector, settings
from integration_hub.connectors.isnet.client import data_contract
from integration_hub.connectors.qnb_esolutions import QnbConnector
from integration_hub.connectors.uyumsoft import UyumsoftConnector
from integration_hub.simulators.efatura.documents import b64, generate_mailbox
from integration_hub.simulators.efatura.soap import read_soap_request, soap_response
from integration_hub.simulators.isnet import SERVICE_PATH, TEST_VKN
from integration_hub.simulators.server import running
from integration_hub_tests.support.efatura_expectations import expected, summarize

CONNECTORS = (CrsSoftConnector, EdmConnector, IsnetConnector, QnbConnector, UyumsoftConnector)


@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("base_url", ["http://efatura.example.com", "http://10.0.0.5:8080/Services/Integration"])
def test_plain_http_to_a_remote_host_is_refused_before_any_password_is_sent(connector, base_url) -> None:
    with pytest.raises(ConfigurationError) as caught:
        connector.service_url(ConnectorConfig(settings={"base_url": base_url}))
    assert str(caught.value) == (
        f"{connector.provider}: base_url must start with https:// (plain http:// only to 127.0.0.1/localhost), "
        f"got '{base_url}'"
    )


@pytest.mark.parametrize("connector", CONNECTORS)
def test_https_and_loopback_http_are_accepted(connector) -> None:
    for base_url in ("https://efatura.example.com/custom/path", "http://127.0.0.1:8403", "http://localhost:9"):
        url = connector.service_url(ConnectorConfig(settings={"base_url": base_url}))
        assert url.startswith(base_url)
    for environment in ("test", "production"):
        assert connector.service_url(ConnectorConfig(settings={"environment": environment})).startswith("https://")


def test_documents_dated_outside_the_window_are_dropped_and_counted() -> None:
    """An İşNet-shaped service whose date filter is off by a day: it answers the invoices of 1 and
    2 February for a window of 1 February only."""
    mailbox = generate_mailbox(6, TEST_VKN, "Acme A.Ş.", date(2025, 2, 1), 2, (2, 3))
    window = DateWindow.single_day(date(2025, 2, 1))

    async def endpoint(request: Request) -> Response:
        soap = await read_soap_request(request)
        model = settings.MODEL_NAMESPACE
        direction = "in" if soap.operation_element.findtext(f".//{{{model}}}InvoiceDirection") == "Incoming" else "out"
        answered = [i for i in mailbox if i.direction == direction]
        response = etree.Element(etree.QName(settings.SERVICE_NAMESPACE, "SearchInvoiceResponse"))
        result = etree.SubElement(response, etree.QName(settings.SERVICE_NAMESPACE, "SearchInvoiceResult"))
        invoices = etree.SubElement(result, etree.QName(model, "Invoices"))
        for invoice in answered:
            element = etree.SubElement(invoices, etree.QName(model, "Invoice"))
            data_contract(element, {"ETTN": invoice.ettn, "InvoiceXml": b64(invoice.xml)})
        paging = {"CurrentPage": 1, "TotalPages": 1, "TotalRecords": len(answered)}
        data_contract(etree.SubElement(result, etree.QName(model, "PagingResponse")), paging)
        etree.SubElement(result, etree.QName(model, "Result")).text = "Success"
        return soap_response(response)

    with running(Starlette(routes=[Route(SERVICE_PATH, endpoint, methods=["POST"])])) as base:
        config = ConnectorConfig(settings={"vkn": TEST_VKN, "base_url": base, "requests_per_minute": 600000})
        connector = IsnetConnector(config, retry=RetryPolicy(base_delay=0.001))
        records = list(connector.collect("invoices", window))
    inside = [i for i in mailbox if i.issue_date in window]
    assert 0 < len(inside) < len(mailbox)
    assert summarize(records, window) == expected(inside)
    assert connector.stats.skipped_out_of_window == len(mailbox) - len(inside)
    assert connector.stats.as_dict()["skipped_out_of_window"] == len(mailbox) - len(inside)
