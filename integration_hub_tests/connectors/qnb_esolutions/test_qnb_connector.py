"""The QNB connector against the QNB simulator over HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import zipfile
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
)
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.qnb_esolutions import QnbConnector, build_qnb_esolutions, settings
from integration_hub.simulators.efatura.documents import b64, generate_mailbox, zip_documents
from integration_hub.simulators.efatura.soap import read_soap_request, soap_response
from integration_hub.simulators.qnb import QnbAccount, QnbSimulator
from integration_hub.simulators.qnb.mailbox import PENDING, approval
from integration_hub.simulators.server import running
from integration_hub_tests.support.efatura_expectations import (
    check_injected_503s,
    check_persistent_503s,
    check_random_503s,
    expected,
    mailbox_expected,
    summarize,
)

LOCKED = QnbAccount("locked.ws", "locked-Pa55", "9876543210", verified=False)
START = date(2025, 1, 1)
WINDOW = DateWindow(date(2025, 1, 15), date(2025, 3, 16))  # 60 days
FAST = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.003)
READ_ONLY = {"gelenBelgeleriListeleExt", "gelenBelgeleriIndir", "gidenBelgeleriListele", "gidenBelgeleriIndirEttn"}


def _sim(**options) -> QnbSimulator:
    return QnbSimulator(**{"seed": 21, "start": START, "days": 90, "per_day": (2, 6), "accounts": [LOCKED], **options})


@pytest.fixture(scope="module")
def served():
    sim = _sim()
    with running(sim.app) as base:
        yield sim, base


def _config(sim: QnbSimulator, base: str, *, account: QnbAccount | None = None, **overrides) -> ConnectorConfig:
    account = account or sim.accounts[0]
    password = overrides.pop("password", account.password)
    settings_ = {
        "username": account.username,
        "vkn": account.vkn,
        "base_url": base,
        "requests_per_minute": 600000,
        **overrides,
    }
    return ConnectorConfig(settings=settings_, secrets={"password": password})


def _connector(sim: QnbSimulator, base: str, *, outgoing_cap: int = settings.OUTGOING_LIST_CAP, **overrides):
    return QnbConnector(_config(sim, base, **overrides), retry=FAST, outgoing_cap=outgoing_cap)


def test_sixty_day_window_yields_exactly_the_simulators_invoices_with_fewest_requests(served) -> None:
    sim, base = served
    before = len(sim.calls)
    connector = _connector(sim, base)
    records = list(connector.collect("invoices", WINDOW))

    incoming, outgoing = sim.invoices("c1", "in", WINDOW), sim.invoices("c1", "out", WINDOW)
    assert len(incoming) > 100 and outgoing  # the cursor really pages
    assert any(approval(i) == PENDING for i in incoming)  # invoices awaiting approval are collected too
    assert summarize(records, WINDOW) == expected(incoming + outgoing)
    assert len(records) == len(incoming) + len(outgoing) + sum(i.line_count for i in incoming + outgoing)

    calls = sim.calls[before:]
    operations = [c.operation for c in calls]
    lists_in = len(incoming) // 100 + 1
    downloads = -(-len(incoming) // 100) + -(-len(outgoing) // 100)
    assert operations.count("gelenBelgeleriListeleExt") == lists_in
    assert operations.count("gidenBelgeleriListele") == 1
    assert len(calls) == lists_in + 1 + downloads == connector.stats.requests
    assert connector.stats.pages == lists_in + 1 and connector.stats.retries == 0
    assert connector.stats.reported_counts == {}  # QNB reports no totals; our own listing count is not one
    assert all(c.status == 200 for c in calls) and set(operations) == READ_ONLY
    # the cursor moved strictly forward; the window was sent as yyyyMMdd issue-date filters
    lists = [c.params for c in calls if c.operation == "gelenBelgeleriListeleExt"]
    cursors = [int(p["sonAlinanBelgeSiraNumarasi"]) for p in lists]
    assert cursors[0] == 0 and cursors == sorted(set(cursors))
    assert {(p["faturaTarihiBaslangic"], p["faturaTarihiBitis"]) for p in lists} == {("20250115", "20250315")}
    assert not any("onayDurum" in p or "gelisTarihiBaslangic" in p for p in lists)  # never with the cursor
    outgoing_list = next(c.params for c in calls if c.operation == "gidenBelgeleriListele")
    assert (outgoing_list["baslangicBelgeTarihi"], outgoing_list["bitisBelgeTarihi"]) == ("20250115", "20250315")
    # several ETTNs per download call
    batches = [c.params["ettnler"] for c in calls if c.operation == "gelenBelgeleriIndir"]
    assert sum(map(len, batches)) == len(incoming) and max(map(len, batches)) == 100


@pytest.mark.parametrize("strict", [True, False], ids=["schema-validating service", "plain JAXB service"])
def test_the_connector_keeps_the_published_contract_under_both_readings_of_the_service(strict: bool) -> None:
    """A strict service refuses members out of the WSDL's order and a SOAPAction other than ""; a plain
    JAX-WS/JAXB one tolerates both. The connector's requests must be accepted by either."""
    sim = _sim(per_day=(1, 3), strict_contract=strict)
    window = DateWindow(date(2025, 2, 1), date(2025, 2, 10))
    with running(sim.app) as base:
        records = list(_connector(sim, base).collect("invoices", window))
    assert summarize(records, window) == mailbox_expected(sim, "c1", window)
    assert {c.status for c in sim.calls} == {200} and {c.operation for c in sim.calls} == READ_ONLY


def test_download_batches_span_list_pages(served) -> None:
    sim, base = served
    before = len(sim.calls)
    records = list(_connector(sim, base, download_batch=70).collect("invoices", WINDOW))
    incoming = sim.invoices("c1", "in", WINDOW)
    assert summarize(records, WINDOW) == mailbox_expected(sim, "c1", WINDOW)
    sizes = [len(c.params["ettnler"]) for c in sim.calls[before:] if c.operation == "gelenBelgeleriIndir"]
    assert sizes == [70] * (len(incoming) // 70) + ([len(incoming) % 70] if len(incoming) % 70 else [])


def test_one_day_and_an_empty_window(served) -> None:
    sim, base = served
    connector = _connector(sim, base)
    day = DateWindow.single_day(date(2025, 2, 3))
    assert mailbox_expected(sim, "c1", day)
    assert summarize(connector.collect("invoices", day), day) == mailbox_expected(sim, "c1", day)
    before = len(sim.calls)
    assert list(connector.collect("invoices", DateWindow.single_day(date(2030, 1, 1)))) == []
    assert [c.operation for c in sim.calls[before:]] == ["gelenBelgeleriListeleExt", "gidenBelgeleriListele"]


def test_outgoing_list_cap_is_handled_by_splitting_the_range() -> None:
    sim = _sim(outgoing_limit=15, per_day=(0, 3))
    with running(sim.app) as base:
        records = list(_connector(sim, base, outgoing_cap=15).collect("invoices", WINDOW))
    assert len(sim.invoices("c1", "out", WINDOW)) > 15
    assert summarize(records, WINDOW) == mailbox_expected(sim, "c1", WINDOW)
    ranges = [
        (c.params["baslangicBelgeTarihi"], c.params["bitisBelgeTarihi"]) for c in sim.calls_to("gidenBelgeleriListele")
    ]
    assert len(ranges) > 1 and ranges[0] == ("20250115", "20250315")


def test_a_single_capped_day_is_an_error_not_a_silent_loss() -> None:
    sim = _sim(outgoing_limit=1, per_day=(2, 3))
    with running(sim.app) as base:
        day = next(i.issue_date for i in sim.invoices("c1", "out", WINDOW))
        with pytest.raises(ProviderError, match="assumed cap"):
            list(_connector(sim, base, outgoing_cap=1).collect("invoices", DateWindow.single_day(day)))


def test_wrong_password_is_one_line_not_retried_and_never_shows_the_password(served) -> None:
    sim, base = served
    before = len(sim.calls)
    connector = _connector(sim, base, password="Wr0ng-Secret-Value")
    with pytest.raises(AuthenticationError) as caught:
        list(connector.collect("invoices", WINDOW))
    message = str(caught.value)
    assert "\n" not in message and "Wr0ng-Secret-Value" not in message and sim.accounts[0].password not in message
    assert f"username '{sim.accounts[0].username}' or its password" in message and "EF0003" in message
    assert len(sim.calls) - before == 1 and connector.stats.retries == 0 and connector.stats.requests == 1
    assert "Wr0ng-Secret-Value" not in repr(connector) and "Wr0ng-Secret-Value" not in str(connector.stats.as_dict())


def test_unverified_account_and_foreign_vkn_are_authentication_errors(served) -> None:
    sim, base = served
    with pytest.raises(AuthenticationError, match=r"'locked.ws' is not verified yet.*\[EF0556\]"):
        list(_connector(sim, base, account=LOCKED).collect("invoices", WINDOW))
    with pytest.raises(AuthenticationError, match=r"may not act for VKN 9876543210; check the 'vkn' setting"):
        list(_connector(sim, base, vkn="9876543210").collect("invoices", WINDOW))


def test_injected_503s_are_retried_and_the_result_is_still_exact(served) -> None:
    sim, base = served
    calls = check_injected_503s(sim, _connector(sim, base), "c1", WINDOW)
    assert {c.operation for c in calls} == READ_ONLY


def test_random_503s_are_retried_too() -> None:
    sim = _sim(fail_rate=0.3, per_day=(0, 3))
    with running(sim.app) as base:
        check_random_503s(sim, _connector(sim, base), "c1", WINDOW)


def test_persistent_503s_give_up_with_a_transient_error(served) -> None:
    sim, base = served
    check_persistent_503s(sim, _connector(sim, base), WINDOW, FAST.max_attempts)


def test_test_connection_ok_and_failed(served) -> None:
    sim, base = served
    account = sim.accounts[0]
    before = len(sim.calls)
    result = _connector(sim, base).test_connection()
    assert result.ok and result.message == f"Connected to QNB e-Solutions as '{account.username}' for VKN {account.vkn}"
    assert [c.operation for c in sim.calls[before:]] == ["gelenBelgeleriListeleExt"]
    failed = _connector(sim, base, password="nope-nope").test_connection()
    assert not failed.ok and "or its password" in failed.message and "nope-nope" not in failed.message
    locked = _connector(sim, base, account=LOCKED).test_connection()
    assert not locked.ok and "EF0556" in locked.message


def test_broken_download_answers_are_one_line_provider_errors() -> None:
    """A service that lists one invoice, then answers the download with junk, nothing, a zip without XML,
    or a zip with more documents than asked for."""
    answers = iter(
        [
            "%%% not base64 %%%",
            "",
            base64.b64encode(_zip({"readme.txt": b"hi"})).decode(),
            base64.b64encode(_zip({"A.xml": b"<Invoice/>", "B.xml": b"<Invoice/>"})).decode(),
        ]
    )

    async def endpoint(request: Request) -> Response:
        soap = await read_soap_request(request)
        response = etree.Element(etree.QName(settings.NAMESPACE, soap.operation + "Response"))
        if soap.operation == "gelenBelgeleriListeleExt":
            row = etree.SubElement(response, "return")
            for key, value in (("belgeSiraNo", "5"), ("ettn", "A"), ("belgeTarihi", "20250201")):
                etree.SubElement(row, key).text = value
        else:
            etree.SubElement(response, "return").text = next(answers)
        return soap_response(response)

    app = Starlette(routes=[Route(settings.SERVICE_PATH, endpoint, methods=["POST"])])
    window = DateWindow.single_day(date(2025, 2, 1))
    with running(app) as base:
        config = ConnectorConfig(
            settings={"username": "u", "vkn": "1234567890", "requests_per_minute": 600000, "base_url": base},
            secrets={"password": "p"},
        )
        for message in (
            "not base64",
            "returned no content",
            "holds no XML document",
            "asked for 1 incoming document(s), the zip held 2",
        ):
            with pytest.raises(ProviderError) as caught:
                list(QnbConnector(config, retry=FAST).fetch_documents("in", window))
            assert message in str(caught.value) and "\n" not in str(caught.value)


class ListsTwoDownloadsZip:
    """A QNB endpoint listing two incoming invoices (the second in upper case, as some services echo
    ETTNs) and answering their download with the zip ``entries`` picks from them; outgoing is empty."""

    def __init__(self) -> None:
        mailbox = generate_mailbox(8, "1234567890", "Acme A.Ş.", date(2025, 2, 1), 1, (2, 2))
        self.invoices = [i for i in mailbox if i.direction == "in"]
        assert len(self.invoices) == 2 and {i.issue_date for i in self.invoices} == {date(2025, 2, 1)}
        self.entries: list[int] = [0, 1]
        self.app = Starlette(routes=[Route(settings.SERVICE_PATH, self.endpoint, methods=["POST"])])

    async def endpoint(self, request: Request) -> Response:
        soap = await read_soap_request(request)
        response = etree.Element(etree.QName(settings.NAMESPACE, soap.operation + "Response"))
        if soap.operation == "gelenBelgeleriListeleExt":
            for sequence, invoice in enumerate(self.invoices, start=1):
                row = etree.SubElement(response, "return")
                etree.SubElement(row, "belgeSiraNo").text = str(sequence)
                etree.SubElement(row, "ettn").text = invoice.ettn if sequence == 1 else invoice.ettn.upper()
        elif soap.operation == "gelenBelgeleriIndir":
            documents = [(f"{n}.xml", self.invoices[index].xml) for n, index in enumerate(self.entries)]
            etree.SubElement(response, "return").text = b64(zip_documents(documents))
        return soap_response(response)


def test_a_zip_holding_one_listed_invoice_twice_fails_instead_of_losing_the_other() -> None:
    fake = ListsTwoDownloadsZip()
    window = DateWindow.single_day(date(2025, 2, 1))
    first, second = fake.invoices
    with running(fake.app) as base:
        config = ConnectorConfig(
            settings={"username": "u", "vkn": "1234567890", "requests_per_minute": 600000, "base_url": base},
            secrets={"password": "p"},
        )
        records = list(QnbConnector(config, retry=FAST).collect("invoices", window))
        assert summarize(records, window) == expected(fake.invoices)  # the fake is a sound QNB when honest
        fake.entries = [0, 0]
        with pytest.raises(ProviderError) as caught:
            list(QnbConnector(config, retry=FAST).collect("invoices", window))
        assert str(caught.value) == (
            f"qnb_esolutions: gelenBelgeleriIndir zip for 2 ETTN(s) held 2 invoice(s), missing e.g. "
            f"{second.ettn.upper()}, repeated e.g. {first.ettn}"
        )


def test_an_incoming_listing_that_ignores_the_cursor_is_an_error_not_an_endless_loop() -> None:
    """Every gelenBelgeleriListeleExt answers the same full page (belgeSiraNo 1..100)."""
    cursors: list[str] = []

    async def endpoint(request: Request) -> Response:
        soap = await read_soap_request(request)
        cursors.append(soap.operation_element.findtext("parametreler/sonAlinanBelgeSiraNumarasi"))
        response = etree.Element(etree.QName(settings.NAMESPACE, soap.operation + "Response"))
        for sequence in range(1, settings.INCOMING_PAGE_SIZE + 1) if len(cursors) < 20 else ():
            row = etree.SubElement(response, "return")
            etree.SubElement(row, "belgeSiraNo").text = str(sequence)
            etree.SubElement(row, "ettn").text = f"00000000-0000-0000-0000-{sequence:012d}"
        return soap_response(response)

    app = Starlette(routes=[Route(settings.SERVICE_PATH, endpoint, methods=["POST"])])
    with running(app) as base:
        config = ConnectorConfig(
            settings={"username": "u", "vkn": "1234567890", "requests_per_minute": 600000, "base_url": base},
            secrets={"password": "p"},
        )
        connector = QnbConnector(config, retry=FAST)
        with pytest.raises(ProviderError, match="did not advance past belgeSiraNo 100; stopping"):
            list(connector.client.incoming_documents(date(2025, 2, 1), date(2025, 2, 1)))
    assert cursors == ["0", "100"]


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_service_url_rules() -> None:
    bare = ConnectorConfig(settings={"base_url": "http://127.0.0.1:9000/"})
    assert QnbConnector.service_url(bare) == "http://127.0.0.1:9000/efatura/ws/connectorService"
    custom = ConnectorConfig(settings={"base_url": "https://qnb.example/connector/ws/connectorService"})
    assert QnbConnector.service_url(custom) == "https://qnb.example/connector/ws/connectorService"
    assert QnbConnector.service_url(ConnectorConfig(settings={"environment": "test"})) == settings.ENVIRONMENTS["test"]
    assert QnbConnector.service_url(ConnectorConfig(settings={})) == (
        "https://connector.qnbesolutions.com.tr/connector/ws/connectorService"
    )
    with pytest.raises(ConfigurationError, match="unknown environment"):
        QnbConnector.service_url(ConnectorConfig(settings={"environment": "staging"}))


def test_configuration_errors_are_one_line() -> None:
    with pytest.raises(ConfigurationError, match="'username' setting is required"):
        QnbConnector(ConnectorConfig(settings={"vkn": "1234567803"}, secrets={"password": "x"}))
    with pytest.raises(ConfigurationError, match="'vkn' setting must be"):
        QnbConnector(ConnectorConfig(settings={"username": "u", "vkn": "12ab"}, secrets={"password": "x"}))
    with pytest.raises(ConfigurationError, match="missing secret field 'password'"):
        QnbConnector(ConnectorConfig(settings={"username": "u", "vkn": "1234567803"}))
    with pytest.raises(ConfigurationError, match="must be positive"):
        QnbConnector(
            ConnectorConfig(
                settings={"username": "u", "vkn": "1234567803", "download_batch": 0}, secrets={"password": "x"}
            )
        )


def test_factory_builds_the_invoices_connector(served) -> None:
    sim, base = served
    connector = build_qnb_esolutions(_config(sim, base))
    assert isinstance(connector, QnbConnector) and connector.streams() == ("invoices",)
    connector.close()
