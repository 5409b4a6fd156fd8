"""Uyumsoft's published WSDL/XSDs, loaded by the tests themselves (not through the simulator), so that
"valid against the contract" never rests on the code under test.

The files are read from ``../shared/efatura-contracts/uyumsoft/`` (see ``conftest.SHARED``); each
``schemaLocation`` URL is mapped to its file through ``Reference.svcmap``, and the schema is built with
``validation="lax"`` (the WCF-generated xmldsig XSD breaks unique particle attribution) before
instances are validated strictly.
"""

from __future__ import annotations

import functools

import xmlschema
from lxml import etree

from integration_hub_tests.conftest import SHARED

DIRECTORY = SHARED / "efatura-contracts" / "uyumsoft"
TEMPURI = "http://tempuri.org/"
WSDL = "{http://schemas.xmlsoap.org/wsdl/}"
WSDL_SOAP = "{http://schemas.xmlsoap.org/wsdl/soap/}"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@functools.cache
def schema() -> xmlschema.XMLSchema:
    svcmap = etree.parse(str(DIRECTORY / "Reference.svcmap")).getroot()
    files = {
        entry.get("SourceUrl"): entry.get("FileName")
        for entry in svcmap.iter("{urn:schemas-microsoft-com:xml-wcfservicemap}MetadataFile")
    }
    return xmlschema.XMLSchema(
        str(DIRECTORY / "Integration2.xsd"),
        validation="lax",
        uri_mapper=lambda uri: str(DIRECTORY / files[uri]) if uri in files else uri,
    )


@functools.cache
def soap_actions() -> dict[str, str]:
    """Operation name -> SOAPAction, from the WSDL's binding."""
    wsdl = etree.parse(str(DIRECTORY / "Integration.wsdl")).getroot()
    return {
        op.get("name"): op.find(f"{WSDL_SOAP}operation").get("soapAction")
        for op in wsdl.iterfind(f"{WSDL}binding/{WSDL}operation")
    }


def errors(element: etree._Element) -> list[str]:
    """Strict validation errors of one body element (``[]`` when it is valid)."""
    return [f"{error.path}: {error.reason}" for error in schema().iter_errors(element)]


def body_element(envelope: bytes) -> etree._Element:
    """The first element of ``soap:Body``."""
    body = etree.fromstring(envelope).find(f"{{{SOAP11}}}Body")
    return next(child for child in body if isinstance(child.tag, str))
