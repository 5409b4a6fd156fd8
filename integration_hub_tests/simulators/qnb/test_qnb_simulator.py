"""The QNB simulator over real HTTP: auth faults, the belgeSiraNo cursor, zips, sessions, fault injection."""

from __future__ import annotations

import base64
import io
import itertools
import socket
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import httpx
import pytest
from lxml import etree

from integration_hub.connectors.base import DateWindow
from integration_hub.connectors.efatura.soap import SOAP11_NS, envelope, find_fault, parse_xml, ws_security_header
from integration_hub.connectors.efatura.ubl import parse_invoice
from integration_hub.simulators.qnb import QnbAccount, QnbSimulator, create_app
from integration_hub.simulators.qnb.mailbox import APPROVED, PENDING, approval
from integration_hub.simulators.server import running

NS = "http://service.connector.uut.cs.com.tr/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PATH = "/efatura/ws/connectorService"
START = date(2025, 1, 1)
LOCKED = QnbAccount("locked.ws", "locked-secret", "9876543210", verified=False)


@pytest.fixture(scope="module")
def served():
    sim = QnbSimulator(seed=7, start=START, days=90, per_day=(1, 3), accounts=[LOCKED])
    with running(sim.app) as base:
        yield sim, base


def _op(name: str, fields: dict[str, object], params: dict[str, object] | None = None) -> etree._Element:
    """A request: ``fields`` in the order given (a wrapper's parameter order), ``params`` inside
    ``parametreler`` sorted, since both parameter types are alphabetical in efinans-php's generated types."""
    element = etree.Element(etree.QName(NS, name), nsmap={"ser": NS})
    if params is not None:
        holder = etree.SubElement(element, "parametreler")
        for key, value in sorted(params.items()):
            etree.SubElement(holder, key).text = str(value)
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            etree.SubElement(element, key).text = str(item)
    return element


def _post(base: str, body: etree._Element, account: QnbAccount | None, password: str | None = None, **kw):
    headers = [ws_security_header(account.username, password or account.password)] if account else []
    return httpx.post(
        base + PATH,
        content=envelope(body, headers),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        **kw,
    )


def _rows(response: httpx.Response) -> list[etree._Element]:
    assert response.status_code == 200, response.text[:300]
    result = parse_xml(response.content, "test").find(f"{{{SOAP11_NS}}}Body")[0]
    return [child for child in result if child.tag == "return"]


def _fault(response: httpx.Response) -> tuple[int, str]:
    fault = find_fault(parse_xml(response.content, "test"))
    assert fault is not None, response.text[:300]
    return response.status_code, fault.message


def _field(row: etree._Element, name: str) -> str:
    return row.findtext(name) or ""


def _list_in(sim: QnbSimulator, base: str, after: int, **params: object) -> httpx.Response:
    account = sim.accounts[0]
    fields = {
        "belgeTuru": "FATURA",
        "sonAlinanBelgeSiraNumarasi": after,
        "vergiTcKimlikNo": account.vkn,
        **params,
    }
    return _post(base, _op("gelenBelgeleriListeleExt", {}, fields), account)


def test_accounts_companies_and_the_app_state(served) -> None:
    sim, _ = served
    first = sim.accounts[0]
    assert first.username == f"{first.vkn}.ws" and len(first.password) == 12 and len(first.vkn) == 10
    assert "password=***" in repr(first) and first.password not in repr(first)
    assert sim.app.state.simulator is sim
    assert {c.vkn for c in sim.companies.values()} == {first.vkn, LOCKED.vkn}
    two = create_app(seed=7, companies=2, start=START, days=3, credentials=[("extra", "extra-pass")]).state.simulator
    assert [a.username for a in two.accounts][-1] == "extra" and two.accounts[-1].vkn == two.accounts[0].vkn
    assert len(two.companies) == 2 and two.accounts[0] == sim.accounts[0]  # deterministic for the seed


def test_wrong_password_is_a_coded_http_500_fault(served) -> None:
    sim, base = served
    account = sim.accounts[0]
    body = _op("gelenBelgeleriListeleExt", {}, {"vergiTcKimlikNo": account.vkn})
    response = _post(base, body, account, password="nope-nope")
    status, message = _fault(response)
    assert status == 500 and message.startswith("[EF0003] Oturum açma işlemi başarısız.")
    assert "nope-nope" not in response.text
    assert sim.calls[-1].fault == "EF0003" and sim.calls[-1].user is None


def test_missing_security_header_and_digest_passwords_are_refused(served) -> None:
    sim, base = served
    account = sim.accounts[0]
    body = _op("gelenBelgeleriListeleExt", {}, {"vergiTcKimlikNo": account.vkn})
    assert _fault(_post(base, body, None))[1].startswith("[EF0003]")
    digest = ws_security_header(account.username, account.password)
    digest.find(".//{*}Password").set("Type", "…#PasswordDigest")
    headers = {"Content-Type": "text/xml", "SOAPAction": '""'}
    response = httpx.post(base + PATH, content=envelope(body, [digest]), headers=headers)
    assert _fault(response)[1].startswith("[EF0003]")


def test_unverified_account_and_foreign_vkn_are_refused(served) -> None:
    sim, base = served
    body = _op("gelenBelgeleriListeleExt", {}, {"vergiTcKimlikNo": LOCKED.vkn})
    assert _fault(_post(base, body, LOCKED)) == (500, "[EF0556] Mali mühür veya e-imza doğrulaması gereklidir.")
    _, message = _fault(_list_in(sim, base, 0, vergiTcKimlikNo=LOCKED.vkn))
    assert message.startswith("[EF0010]") and LOCKED.vkn in message


def test_incoming_cursor_is_strictly_greater_capped_at_100_with_gaps(served) -> None:
    sim, base = served
    first = _rows(_list_in(sim, base, 0))
    assert len(first) == 100
    numbers = [int(_field(r, "belgeSiraNo")) for r in first]
    assert numbers == sorted(numbers) and len(set(numbers)) == 100
    assert any(b - a > 1 for a, b in itertools.pairwise(numbers))  # other documents take numbers
    again = _rows(_list_in(sim, base, numbers[49]))
    assert [int(_field(r, "belgeSiraNo")) for r in again[:50]] == numbers[50:]
    cursor, collected = 0, []
    while page := _rows(_list_in(sim, base, cursor)):
        collected += [_field(r, "ettn") for r in page]
        cursor = int(_field(page[-1], "belgeSiraNo"))
    assert collected == [i.ettn.upper() for _, i in sim.mailboxes["c1"].incoming]
    assert len(collected) > 100
    assert _field(first[0], "belgeTuru") == "FATURA"
    assert len(_field(first[0], "belgeTarihi")) == 8 and _field(first[0], "belgeTarihi").isdigit()


def test_incoming_date_filter_and_the_two_listing_modes(served) -> None:
    sim, base = served
    incoming = [i for i in sim.mailbox("c1") if i.direction == "in"]
    in_range = [i for i in incoming if date(2025, 2, 10) <= i.issue_date <= date(2025, 2, 20)]
    rows = _rows(_list_in(sim, base, 0, faturaTarihiBaslangic="20250210", faturaTarihiBitis="20250220"))
    assert in_range and {_field(r, "ettn") for r in rows} == {i.ettn.upper() for i in in_range}
    pending = {i.ettn.upper() for i in in_range if approval(i) == PENDING}
    assert pending and pending <= {_field(r, "ettn") for r in rows}  # the cursor lists every approval state
    # without a cursor a blank onayDurum means approved only
    dates = {"faturaTarihiBaslangic": "20250210", "faturaTarihiBitis": "20250220", "sonAlinanBelgeSiraNumarasi": ""}
    blank = {_field(r, "ettn") for r in _rows(_list_in(sim, base, 0, **dates))}
    assert blank == {i.ettn.upper() for i in in_range if approval(i) == APPROVED}
    waiting = {_field(r, "ettn") for r in _rows(_list_in(sim, base, 0, **dates, onayDurum="ONAYBEKLEYEN"))}
    assert waiting == pending
    everything = {_field(r, "ettn") for r in _rows(_list_in(sim, base, 0, **dates, onayDurum="HEPSI"))}
    assert everything == {i.ettn.upper() for i in in_range}
    # the cursor must not be combined with approval or arrival-date filters
    assert _fault(_list_in(sim, base, 0, onayDurum="HEPSI"))[1].startswith("[EF0103]")
    assert _fault(_list_in(sim, base, 5, gelisTarihiBaslangic="20250210"))[1].startswith("[EF0103]")
    assert _fault(_list_in(sim, base, 0, faturaTarihiBaslangic="2025-02-10"))[1].startswith("[EF0102]")


def test_return_type_version_adds_fields(served) -> None:
    sim, base = served
    plain = _rows(_list_in(sim, base, 0))[0]
    assert plain.get(f"{{{XSI}}}type") == "ns2:belge" and plain.find("profileId") is None
    v6 = _rows(_list_in(sim, base, 0, donusTipiVersiyon="6.0"))[0]
    invoice = sim.mailboxes["c1"].by_ettn[_field(v6, "ettn").lower()]
    assert v6.get(f"{{{XSI}}}type") == "ns2:belgev6"
    assert _field(v6, "profileId") == invoice.profile_id and _field(v6, "saticiUnvan") == invoice.supplier_name
    assert _field(v6, "faturaGelisTarihi") == invoice.created_at.strftime("%Y%m%d%H%M%S") + (
        f"{invoice.created_at.microsecond // 1000:03d}"
    )
    assert _field(v6, "odenecekTutar") == f"{invoice.payable:.2f}"


def test_download_returns_a_base64_zip_with_one_xml_per_ettn(served) -> None:
    sim, base = served
    account = sim.accounts[0]
    ettns = [_field(r, "ettn") for r in _rows(_list_in(sim, base, 0))[:3]]
    fields = {"vergiTcKimlikNo": account.vkn, "ettnler": ettns, "belgeTuru": "FATURA", "belgeFormati": "UBL"}
    response = _post(base, _op("gelenBelgeleriIndir", fields), account)
    assert response.status_code == 200
    payload = parse_xml(response.content, "t").find(f"{{{SOAP11_NS}}}Body")[0].findtext("return")
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(payload)))
    assert sorted(archive.namelist()) == sorted(f"{e}.xml" for e in ettns)
    for ettn in ettns:
        assert parse_invoice(archive.read(f"{ettn}.xml")).ettn == ettn.lower()
    # ettnler repeats; one comma-joined element is one ETTN that does not exist
    comma = _post(base, _op("gelenBelgeleriIndir", {**fields, "ettnler": ",".join(ettns)}), account)
    assert _fault(comma) == (500, f"[EF0120] {','.join(ettns)} ETTN numaralı belge bulunamadı.")


def test_download_refuses_unknown_wrong_direction_and_too_many(served) -> None:
    sim, base = served
    account = sim.accounts[0]
    outgoing = next(i for i in sim.mailbox("c1") if i.direction == "out")
    fields = {"vergiTcKimlikNo": account.vkn, "ettnler": [outgoing.ettn], "belgeTuru": "FATURA", "belgeFormati": "UBL"}
    assert _fault(_post(base, _op("gelenBelgeleriIndir", fields), account))[1].startswith("[EF0120]")
    many = [i.ettn for i in sim.mailbox("c1") if i.direction == "in"][:101]
    response = _post(base, _op("gelenBelgeleriIndir", {**fields, "ettnler": many}), account)
    assert _fault(response)[1] == "[EF0121] Tek seferde en fazla 100 belge indirilebilir."


def test_outgoing_list_by_issue_dates_with_compact_timestamps(served) -> None:
    sim, base = served
    account = sim.accounts[0]
    params = {
        "baslangicBelgeTarihi": "20250301",
        "belgeTuru": "FATURA",
        "bitisBelgeTarihi": "20250315",
        "vkn": account.vkn,
    }
    rows = _rows(_post(base, _op("gidenBelgeleriListele", {}, params), account))
    expected = {i.ettn.upper() for i in sim.invoices("c1", "out", DateWindow(date(2025, 3, 1), date(2025, 3, 16)))}
    assert expected and {_field(r, "ettn") for r in rows} == expected
    assert all(len(_field(r, "alimZamani")) == 17 for r in rows)
    fields = {
        "vergiTcKimlikNo": account.vkn,
        "belgeEttnListesi": [_field(r, "ettn") for r in rows[:2]],
        "belgeTuru": "FATURA",
        "belgeFormati": "UBL",
    }
    zipped = _post(base, _op("gidenBelgeleriIndirEttn", fields), account)
    payload = parse_xml(zipped.content, "t").find(f"{{{SOAP11_NS}}}Body")[0].findtext("return")
    assert len(zipfile.ZipFile(io.BytesIO(base64.b64decode(payload))).namelist()) == 2


def test_outgoing_list_is_truncated_at_its_limit() -> None:
    sim = QnbSimulator(seed=3, start=START, days=30, per_day=(2, 5), outgoing_limit=7)
    account = sim.accounts[0]
    with running(sim.app) as base:
        params = {
            "baslangicBelgeTarihi": "20250101",
            "belgeTuru": "FATURA",
            "bitisBelgeTarihi": "20250331",
            "vkn": account.vkn,
        }
        assert len(_rows(_post(base, _op("gidenBelgeleriListele", {}, params), account))) == 7


def test_ws_login_session_cookie_and_expiry() -> None:
    sim = QnbSimulator(seed=3, start=START, days=2, per_day=(0, 1), session_ttl=0.3)
    account = sim.accounts[0]
    with running(sim.app) as base, httpx.Client(base_url=base, headers={"SOAPAction": '""'}) as client:
        login = etree.Element("{http://service.csap.cs.com.tr/}wsLogin")
        for key, value in (("userId", account.username), ("password", "bad"), ("lang", "tr")):
            etree.SubElement(login, key).text = value
        refused = client.post("/efatura/ws/userService", content=envelope(login))
        assert refused.status_code == 500 and "EF0003" in refused.text
        login.find("password").text = account.password
        assert client.post("/efatura/ws/userService", content=envelope(login)).status_code == 200
        assert "JSESSIONID" in client.cookies
        params = {"belgeTuru": "FATURA", "sonAlinanBelgeSiraNumarasi": 0, "vergiTcKimlikNo": account.vkn}
        body = _op("gelenBelgeleriListeleExt", {}, params)
        assert client.post(PATH, content=envelope(body)).status_code == 200
        time.sleep(0.4)
        expired = client.post(PATH, content=envelope(body))
        assert _fault(expired)[1].startswith("[EF0004]")
    assert [(c.operation, c.status) for c in sim.calls] == [
        ("wsLogin", 500),
        ("wsLogin", 200),
        ("gelenBelgeleriListeleExt", 200),
        ("gelenBelgeleriListeleExt", 500),
    ]


def test_fault_injection_answers_the_queued_bare_statuses_then_recovers() -> None:
    sim = QnbSimulator(seed=3, start=START, days=2, per_day=(0, 1))
    with running(sim.app) as base:
        sim.fail_next(1)
        sim.fail_next(1, status=500)
        responses = [_list_in(sim, base, 0) for _ in range(3)]
    assert [r.status_code for r in responses] == [503, 500, 200]
    assert b"Envelope" not in responses[0].content
    assert [(c.operation, c.status) for c in sim.calls] == [("gelenBelgeleriListeleExt", s) for s in (503, 500, 200)]
    always = QnbSimulator(seed=3, start=START, days=2, per_day=(0, 1), fail_rate=1.0)
    with running(always.app) as base:
        assert _list_in(always, base, 0).status_code == 503


def test_state_changing_operations_are_implemented_and_recorded(served) -> None:
    sim, base = served
    account = sim.accounts[0]
    ettn = sim.mailboxes["c1"].incoming[0][1].ettn
    body = _op("belgelerAlindi", {"vergiTcKimlikNo": account.vkn, "ettn": [ettn], "belgeTuru": "FATURA"})
    assert _post(base, body, account).status_code == 200
    assert "belgelerAlindi" in sim.STATE_CHANGING_OPERATIONS
    assert sim.calls_to("belgelerAlindi")[-1].params["ettn"] == [ettn]
    v4 = _rows(_list_in(sim, base, 0, donusTipiVersiyon="4.0"))
    assert [_field(r, "arsivlenmis") for r in v4 if _field(r, "ettn") == ettn.upper()] == ["1"]


def test_mailbox_is_deterministic_per_seed() -> None:
    one = QnbSimulator(seed=11, start=START, days=10)
    two = QnbSimulator(seed=11, start=START, days=10)
    assert [i.ettn for i in one.mailbox("c1")] == [i.ettn for i in two.mailbox("c1")]
    assert [n for n, _ in one.mailboxes["c1"].incoming] == [n for n, _ in two.mailboxes["c1"].incoming]


def test_simulate_cli_prints_every_account_and_serves() -> None:
    port = _free_port()
    command = [str(Path(sys.executable).with_name("integration-hub")), "simulate", "qnb", "--port", str(port)]
    command += ["--days", "5", "--companies", "2", "--credentials", "cli.ws:cli:pass"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline().strip() for _ in range(4)]
        assert [line.split()[0] for line in lines[:3]] == ["company=c1", "company=c2", "company=c1"]
        assert lines[2].endswith("username=cli.ws password=cli:pass")
        assert lines[3] == f"serving QNB connectorService on http://127.0.0.1:{port}{PATH}"
        vkn = lines[2].split()[1].removeprefix("vkn=")
        account = QnbAccount("cli.ws", "cli:pass", vkn)
        params = {"belgeTuru": "FATURA", "sonAlinanBelgeSiraNumarasi": 0, "vergiTcKimlikNo": vkn}
        deadline = time.monotonic() + 20
        while True:
            try:
                response = _post(
                    f"http://127.0.0.1:{port}", _op("gelenBelgeleriListeleExt", {}, params), account, timeout=2
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
