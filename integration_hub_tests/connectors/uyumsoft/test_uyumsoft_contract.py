"""Every request the Uyumsoft and CRS Soft connectors send, validated against Uyumsoft's published WSDL and
XSDs by the test itself (:mod:`.contract`), not by the simulator that also validates them: the requests of
whole collections are recorded on the wire and checked one by one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from lxml import etree

from integration_hub.connectors.base import ConnectorConfig, DateWindow
from integration_hub.connectors.crs_soft import CrsSoftConnector
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.uyumsoft import UyumsoftConnector
from integration_hub.simulators import crs, uyumsoft
from integration_hub.simulators.server import running
from integration_hub_tests.connectors.uyumsoft.contract import TEMPURI, body_element, errors, soap_actions
from integration_hub_tests.connectors.uyumsoft.expectations import READ_OPERATIONS

WINDOW = DateWindow(date(2025, 1, 3), date(2025, 1, 20))
WSSE = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}"
WSU = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}"
SOAP11 = "{http://schemas.xmlsoap.org/soap/envelope/}"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"


class Recorder:
    """ASGI middleware keeping every request's SOAPAction, body and arrival time before the simulator
    sees it."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests: list[tuple[str, bytes, datetime]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        action = dict(scope["headers"]).get(b"soapaction", b"").decode().strip().strip('"')
        self.requests.append((action, body, datetime.now(UTC)))
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _collect_recorded(module, connector_class, *, bulk_data: bool, auth_style: str = "ws_security") -> Recorder:
    app = module.create_app(seed=7, companies=1, start=date(2025, 1, 1), days=30, per_day=(1, 4), bulk_data=bulk_data)
    recorder = Recorder(app)
    with running(recorder) as base:
        account = app.state.simulator.accounts["company-1"]
        config = ConnectorConfig(
            settings={
                "username": account.username,
                "base_url": base,
                "requests_per_minute": 10**6,
                "auth_style": auth_style,
            },
            secrets={"password": account.password},
        )
        connector = connector_class(config, retry=RetryPolicy(max_attempts=2, base_delay=0.001))
        assert connector.test_connection().ok
        assert list(connector.collect("invoices", WINDOW))
        assert all(
            call.status == 200 for call in app.state.simulator.calls if call.outcome != "fault: a:ActionNotSupported"
        )
    return recorder


def _security_problems(envelope: bytes, received: datetime) -> list[str]:
    """What the binding's policy (sp:IncludeTimestamp, a PasswordText UsernameToken) finds missing."""
    security = etree.fromstring(envelope).find(f"{SOAP11}Header/{WSSE}Security")
    if security is None:
        return ["no wsse:Security"]
    problems = []
    stamp = security.find(f"{WSU}Timestamp")
    if stamp is None:
        problems.append("no wsu:Timestamp")
    else:
        created = datetime.fromisoformat(stamp.findtext(f"{WSU}Created").replace("Z", "+00:00"))
        expires = datetime.fromisoformat(stamp.findtext(f"{WSU}Expires").replace("Z", "+00:00"))
        if not (stamp.get(f"{WSU}Id") and created.tzinfo == UTC and created <= received < expires):
            problems.append(f"timestamp {created}..{expires} does not cover its arrival at {received}")
    password = security.find(f"{WSSE}UsernameToken/{WSSE}Password")
    if password is None or password.get("Type") != PASSWORD_TEXT:
        problems.append("no PasswordText UsernameToken")
    return problems


@pytest.mark.parametrize(
    ("module", "connector_class"), [(uyumsoft, UyumsoftConnector), (crs, CrsSoftConnector)], ids=["uyumsoft", "crs"]
)
def test_every_request_of_a_collection_is_valid_against_the_published_contract(module, connector_class) -> None:
    recorded = [
        *_collect_recorded(module, connector_class, bulk_data=True).requests,
        *_collect_recorded(module, connector_class, bulk_data=False).requests,  # single downloads too
    ]
    actions = soap_actions()
    seen = set()
    for action, envelope, received in recorded:
        element = body_element(envelope)
        name = etree.QName(element).localname
        seen.add(name)
        assert etree.QName(element).namespace == TEMPURI
        assert action == actions[name], f"{name} sent with SOAPAction {action}"
        assert errors(element) == [], f"{name} is not valid against the XSD"
        assert _security_problems(envelope, received) == [], name
    assert seen == READ_OPERATIONS


def test_crs_user_info_requests_are_valid_apart_from_the_user_info_element() -> None:
    """``userInfo`` is not in the WSDL (another deployment's variant, opt-in): everything else in those
    bodies must still be what the XSD says, and no WS-Security header is sent with it."""
    recorded = _collect_recorded(crs, CrsSoftConnector, bulk_data=True, auth_style="user_info").requests
    assert recorded
    for _, envelope, _ in recorded:
        element = body_element(envelope)
        user_info = element[0]
        assert etree.QName(user_info).localname == "userInfo" and user_info.get("Username") == "company1.ws"
        element.remove(user_info)
        assert errors(element) == []
        assert etree.fromstring(envelope).find(f"{SOAP11}Header/{WSSE}Security") is None
