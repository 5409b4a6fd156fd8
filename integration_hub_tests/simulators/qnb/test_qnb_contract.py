"""The QNB simulator holds clients to connectorService's published contract: raw, hand-written requests.

The requests here are literal XML, written from tnhnclskn/efinans-php's generated types (namespace
``http://service.connector.uut.cs.com.tr/``, unqualified members in the types' order, ``ettnler`` once per
ETTN, ``SOAPAction: ""``), so neither the connector nor the simulator's own constants shape them.
"""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import date

import httpx
import pytest
from lxml import etree

from integration_hub.simulators.qnb import QnbSimulator
from integration_hub.simulators.server import running

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PATH = "/efatura/ws/connectorService"


@pytest.fixture(scope="module", params=[True, False], ids=["strict", "tolerant"])
def served(request):
    sim = QnbSimulator(seed=5, start=date(2025, 1, 1), days=20, per_day=(2, 4), strict_contract=request.param)
    with running(sim.app) as base:
        yield sim, base


def _envelope(sim: QnbSimulator, body: str) -> str:
    account = sim.accounts[0]
    return (
        f'<soapenv:Envelope xmlns:soapenv="{ENV}" xmlns:ser="http://service.connector.uut.cs.com.tr/">'
        "<soapenv:Header>"
        '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
        f"<wsse:UsernameToken><wsse:Username>{account.username}</wsse:Username>"
        f"<wsse:Password>{account.password}</wsse:Password></wsse:UsernameToken>"
        "</wsse:Security></soapenv:Header>"
        f"<soapenv:Body>{body.format(vkn=account.vkn)}</soapenv:Body></soapenv:Envelope>"
    )


def _post(served, body: str, soap_action: str | None = '""') -> httpx.Response:
    """POST an envelope; ``soap_action=None`` leaves the SOAPAction header out altogether."""
    sim, base = served
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if soap_action is not None:
        headers["SOAPAction"] = soap_action
    return httpx.post(base + PATH, content=_envelope(sim, body).encode(), headers=headers)


def _answer(response: httpx.Response) -> etree._Element:
    assert response.status_code == 200, response.text[:400]
    return etree.fromstring(response.content).find(f"{{{ENV}}}Body")[0]


def _fault(response: httpx.Response) -> tuple[int, str, str]:
    fault = etree.fromstring(response.content).find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert fault is not None, response.text[:400]
    return response.status_code, fault.findtext("faultcode"), fault.findtext("faultstring")


LIST_IN = (
    "<ser:gelenBelgeleriListeleExt><parametreler>"
    "<belgeTuru>FATURA</belgeTuru><donusTipiVersiyon>{version}</donusTipiVersiyon>"
    "<sonAlinanBelgeSiraNumarasi>0</sonAlinanBelgeSiraNumarasi><vergiTcKimlikNo>{{vkn}}</vergiTcKimlikNo>"
    "</parametreler></ser:gelenBelgeleriListeleExt>"
)
DOWNLOAD_IN = (
    "<ser:gelenBelgeleriIndir><vergiTcKimlikNo>{{vkn}}</vergiTcKimlikNo>{ettnler}"
    "<belgeTuru>FATURA</belgeTuru><belgeFormati>UBL</belgeFormati></ser:gelenBelgeleriIndir>"
)


def _incoming_ettns(served, count: int) -> list[str]:
    rows = _answer(_post(served, LIST_IN.format(version="1.0")))
    return [row.findtext("ettn") for row in rows][:count]


def test_the_contracts_requests_are_answered_in_both_modes(served) -> None:
    response = _answer(_post(served, LIST_IN.format(version="1.0")))
    assert response.tag == "{http://service.connector.uut.cs.com.tr/}gelenBelgeleriListeleExtResponse"
    assert len(response) > 0 and all(row.tag == "return" for row in response)


def test_an_operation_element_outside_the_service_namespace_is_not_dispatched(served) -> None:
    body = (
        LIST_IN.format(version="1.0")
        .replace("ser:", "wrong:")
        .replace(
            "<wrong:gelenBelgeleriListeleExt>", '<wrong:gelenBelgeleriListeleExt xmlns:wrong="http://tempuri.org/">'
        )
    )
    assert _fault(_post(served, body)) == (
        500,
        "S:Client",
        "Cannot find dispatch method for {http://tempuri.org/}gelenBelgeleriListeleExt",
    )
    unknown = _fault(_post(served, "<ser:gelenFaturalariGetir/>"))
    assert unknown[2] == "Cannot find dispatch method for {http://service.connector.uut.cs.com.tr/}gelenFaturalariGetir"


def test_a_qualified_member_is_not_bound_so_the_service_reports_it_missing(served) -> None:
    qualified = LIST_IN.format(version="1.0").replace(
        "<vergiTcKimlikNo>{vkn}</vergiTcKimlikNo>", "<ser:vergiTcKimlikNo>{vkn}</ser:vergiTcKimlikNo>"
    )
    assert _fault(_post(served, qualified)) == (500, "S:Server", "[EF0101] vergiTcKimlikNo alanı zorunludur.")
    in_params = qualified.replace("<parametreler>", "<ser:parametreler>").replace(
        "</parametreler>", "</ser:parametreler>"
    )
    assert _fault(_post(served, in_params))[2] == "[EF0101] parametreler alanı zorunludur."


def test_ettnler_repeats_once_per_ettn_and_a_joined_value_is_one_unknown_ettn(served) -> None:
    ettns = _incoming_ettns(served, 2)
    repeated = "".join(f"<ettnler>{ettn}</ettnler>" for ettn in ettns)
    payload = _answer(_post(served, DOWNLOAD_IN.format(ettnler=repeated))).findtext("return")
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(payload))).namelist()
    assert sorted(names) == sorted(f"{ettn}.xml" for ettn in ettns)
    joined = f"<ettnler>{','.join(ettns)}</ettnler>"
    assert _fault(_post(served, DOWNLOAD_IN.format(ettnler=joined)))[2].startswith(f"[EF0120] {','.join(ettns)} ")
    wrapped = "<ettnler>" + "".join(f"<string>{ettn}</string>" for ettn in ettns) + "</ettnler>"
    assert _fault(_post(served, DOWNLOAD_IN.format(ettnler=wrapped)))[0] == 500


def test_member_order_and_soap_action_are_enforced_only_in_strict_mode(served) -> None:
    sim, _ = served
    shuffled = DOWNLOAD_IN.replace(
        "<belgeTuru>FATURA</belgeTuru><belgeFormati>UBL</belgeFormati>",
        "<belgeFormati>UBL</belgeFormati><belgeTuru>FATURA</belgeTuru>",
    ).format(ettnler=f"<ettnler>{_incoming_ettns(served, 1)[0]}</ettnler>")
    reordered = _post(served, shuffled)
    named_action = _post(served, LIST_IN.format(version="1.0"), soap_action='"gelenBelgeleriListeleExt"')
    if sim.strict_contract:
        assert _fault(reordered) == (
            500,
            "S:Client",
            "cvc-complex-type.2.4.d: Invalid content was found starting with element 'belgeTuru'. "
            "No child element is expected at this point.",
        )
        assert _fault(named_action) == (
            500,
            "S:Client",
            'SOAPAction "gelenBelgeleriListeleExt" does not match the soapAction "" of '
            "{http://service.connector.uut.cs.com.tr/}gelenBelgeleriListeleExt",
        )
        assert _fault(_post(served, LIST_IN.format(version="1.0"), soap_action=None))[2] == (
            'A request without a SOAPAction header does not match the soapAction "" of '
            "{http://service.connector.uut.cs.com.tr/}gelenBelgeleriListeleExt"
        )
        early = LIST_IN.format(version="1.0").replace("<belgeTuru>FATURA</belgeTuru>", "")
        early = early.replace("</vergiTcKimlikNo>", "</vergiTcKimlikNo><belgeTuru>FATURA</belgeTuru>")
        assert _fault(_post(served, early))[2] == (
            "cvc-complex-type.2.4.d: Invalid content was found starting with element 'belgeTuru'. "
            "No child element is expected at this point."
        )
        late = LIST_IN.format(version="1.0").replace(
            "<donusTipiVersiyon>1.0</donusTipiVersiyon><sonAlinanBelgeSiraNumarasi>0</sonAlinanBelgeSiraNumarasi>",
            "<sonAlinanBelgeSiraNumarasi>0</sonAlinanBelgeSiraNumarasi><donusTipiVersiyon>1.0</donusTipiVersiyon>",
        )
        assert _fault(_post(served, late))[2] == (
            "cvc-complex-type.2.4.a: Invalid content was found starting with element 'donusTipiVersiyon'. "
            "One of '{subeKodu, vergiTcKimlikNo}' is expected."
        )
    else:
        assert _answer(reordered).findtext("return")
        assert len(_answer(named_action)) > 0


def test_answer_rows_carry_the_generated_types_fields_in_their_order(served) -> None:
    sim, _ = served
    v1 = _answer(_post(served, LIST_IN.format(version="1.0")))[0]
    assert v1.get(f"{{{XSI}}}type") == "ns2:belge"
    assert [child.tag for child in v1] == [
        "belgeNo",
        "belgeSiraNo",
        "belgeTarihi",
        "belgeTuru",
        "ettn",
        "gonderenEtiket",
        "gonderenVknTckn",
    ]
    v3 = _answer(_post(served, LIST_IN.format(version="3.0")))[0]
    tags = [child.tag for child in v3]
    assert v3.get(f"{{{XSI}}}type") == "ns2:belgev3"
    assert tags[:7] == [child.tag for child in v1]  # inherited fields first
    assert tags[7:] == ["alanEtiket", "aliciUnvan", "saticiUnvan", "zarfId", "odenecekTutar", "odenecekTutarDovizCinsi"]
    account = sim.accounts[0]
    outgoing = _answer(
        _post(
            served,
            "<ser:gidenBelgeleriListele><parametreler><baslangicBelgeTarihi>20250101</baslangicBelgeTarihi>"
            "<belgeTuru>FATURA</belgeTuru><bitisBelgeTarihi>20250120</bitisBelgeTarihi><vkn>{vkn}</vkn>"
            "</parametreler></ser:gidenBelgeleriListele>",
        )
    )
    row = outgoing[0]
    assert row.get(f"{{{XSI}}}type") == "ns2:gidenBelgeleriListeleData"
    assert [child.tag for child in row] == [
        "alimDurumu",
        "alimZamani",
        "belgeOid",
        "belgeTarihi",
        "belgeTuru",
        "ettn",
        "islemYapanVkn",
        "kullaniciKodu",
        "yerelBelgeNo",
    ]
    assert row.findtext("islemYapanVkn") == account.vkn

