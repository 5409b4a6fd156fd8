"""The shared SOAP plumbing over a real loopback server: envelopes, WS-Security, faults, retries."""

from __future__ import annotations

import pytest
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integration_hub.connectors.base import AuthenticationError, ProviderError, TransientError
from integration_hub.connectors.efatura.soap import SoapClient, SoapFault, parse_xml, sub, ws_security_header
from integration_hub.connectors.http import RetryPolicy
from integration_hub.simulators.efatura.soap import fault_response, read_soap_request, soap_response
from integration_hub.simulators.server import running

NS = "http://tempuri.org/"


@pytest.fixture()
def echo_service():
    seen: list[dict] = []
    state = {"fail_plain_500": 0}

    async def endpoint(request: Request) -> Response:
        if state["fail_plain_500"] > 0:
            state["fail_plain_500"] -= 1
            return Response("upstream down", status_code=502)
        soap = await read_soap_request(request)
        user, password, kind = soap.username_token()
        seen.append({"op": soap.operation, "action": soap.soap_action, "user": user, "type": kind})
        if password != "right":
            return fault_response("s:Client", "Bu sisteme erişmek için gerekli yetkiniz yok")
        result = etree.Element(f"{{{NS}}}{soap.operation}Response")
        sub(result, NS, "Echo", soap.operation_element.findtext(f"{{{NS}}}Value"))
        return soap_response(result)

    with running(Starlette(routes=[Route("/svc", endpoint, methods=["POST"])])) as base:
        yield f"{base}/svc", seen, state


def _client(url: str) -> SoapClient:
    def classify(fault: SoapFault) -> Exception | None:
        if "yetkiniz yok" in fault.message:
            return AuthenticationError("test: username or password rejected")
        return None

    return SoapClient(
        url,
        provider="test",
        action_prefix="http://tempuri.org/IIntegration/",
        retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002),
        classify_fault=classify,
    )


def _body(value: str) -> etree._Element:
    element = etree.Element(f"{{{NS}}}Ping", nsmap={"tem": NS})
    sub(element, NS, "Value", value)
    return element


def test_call_sends_ws_security_and_soap_action(echo_service) -> None:
    url, seen, _ = echo_service
    client = _client(url)
    response = client.call("Ping", _body("merhaba"), [ws_security_header("user", "right")])
    assert response.findtext(f"{{{NS}}}Echo") == "merhaba"
    assert seen == [
        {"op": "Ping", "action": "http://tempuri.org/IIntegration/Ping", "user": "user", "type": seen[0]["type"]}
    ]
    assert seen[0]["type"].endswith("#PasswordText")


def test_fault_is_classified_and_not_retried(echo_service) -> None:
    url, seen, _ = echo_service
    client = _client(url)
    with pytest.raises(AuthenticationError, match="rejected"):
        client.call("Ping", _body("x"), [ws_security_header("user", "wrong")])
    assert len(seen) == 1
    assert "wrong" not in repr(client.stats.as_dict())


def test_plain_5xx_is_retried_then_succeeds(echo_service) -> None:
    url, _seen, state = echo_service
    state["fail_plain_500"] = 2
    client = _client(url)
    client.call("Ping", _body("x"), [ws_security_header("user", "right")])
    assert client.stats.retries == 2
    assert client.stats.requests == 3


def test_plain_5xx_forever_gives_transient_error(echo_service) -> None:
    url, _, state = echo_service
    state["fail_plain_500"] = 10
    with pytest.raises(TransientError):
        _client(url).call("Ping", _body("x"), [ws_security_header("user", "right")])


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><x>&lol2;</x>',
        b"<x><y></x>",
        b"",
    ],
)
def test_hostile_or_broken_xml_is_refused_with_one_line(document: bytes) -> None:
    with pytest.raises(ProviderError) as info:
        parse_xml(document, "test")
    assert "\n" not in str(info.value)
    assert "root:" not in str(info.value)


HTML = b"<!DOCTYPE html>\n<html><head><title>Not Found</title></head><body>404</body></html>"


@pytest.mark.parametrize(
    ("status", "media_type", "body", "shown"),
    [
        (404, "text/html", HTML, "HTTP 404 text/html; charset=utf-8"),
        (200, "text/html", HTML, "HTTP 200 text/html; charset=utf-8"),
        (200, "application/json", b'{"status": "ok"}', "HTTP 200 application/json"),
        (200, "text/xml", b"\n<HTML><body>portal login</body></HTML>", "HTTP 200 text/xml; charset=utf-8"),
    ],
)
def test_a_wrong_endpoint_says_so_instead_of_blaming_the_xml(status, media_type, body, shown) -> None:
    """A wrong base_url answers with a web page, not SOAP: the message points at the setting."""

    async def endpoint(request: Request) -> Response:
        return Response(body, status_code=status, media_type=media_type)

    with running(Starlette(routes=[Route("/svc", endpoint, methods=["POST"])])) as base:
        client = _client(f"{base}/svc")
        with pytest.raises(ProviderError) as info:
            client.call("Ping", _body("x"), [ws_security_header("user", "right")])
    assert str(info.value) == f"test Ping: {shown}, not a SOAP answer — check base_url/environment"
    assert client.stats.requests == 1
