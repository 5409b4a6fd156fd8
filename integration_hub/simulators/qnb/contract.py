"""QNB e-Solutions' ``connectorService`` contract, written from what public sources record of its WSDL.

No WSDL file is public. The strongest record is a client generated from it, tnhnclskn/efinans-php
(:data:`PHP`): ``config/soap-client.php`` names the WSDL it was generated from
(``connectortest.efinans.com.tr/connector/ws/connectorService?wsdl``), and ``src/Type/*.php`` hold one
class per request wrapper and per complex type, with the properties in the order of the WSDL's
``xs:sequence``. Everything below comes from there unless its comment names another source; nothing
comes from the connector.

What the sources leave open, and how it is settled here:

* **SOAPAction.** The generated PHP types do not record it. A JAX-WS endpoint generated from Java (the
  namespace is the default JAX-WS derives from a package ``tr.com.cs.uut.connector.service``; the
  ``S:``/``ns2:`` prefixes of QNB's saved answers are the JAX-WS RI's) declares ``soapAction=""``, and two
  public raw clients that read the service's real answers send exactly ``SOAPAction: ""``
  (:data:`AL_CLIENT`, :data:`PY_CLIENT`). Settled as :data:`SOAP_ACTION` = ``""``.
* **Repeated ETTN lists.** The PHP types say ``@var string`` for ``ettnler``, but the same generator types
  the list answers' ``return`` as a single value too, so it cannot tell. A svcutil-generated .NET client
  of the same WSDL (:data:`CS_CLIENT`) passes ``ettnler`` as ``string[]`` and reads the zip it gets back:
  svcutil makes ``string[]`` of an element with ``maxOccurs="unbounded"``. Settled: one ``<ettnler>`` (and
  one ``<belgeEttnListesi>``) element per ETTN.
* **Member order.** The generated types record one order (alphabetical inside each complex type, the
  parameter order inside a wrapper, as JAXB writes them). Plain JAXB binds children by name and tolerates
  another order, and :data:`AL_CLIENT`/:data:`PY_CLIENT` do send other orders; a schema-validating endpoint
  would not. The simulator enforces the recorded order by default (``strict_contract``) and can be run the
  tolerant way; a client that sends the recorded order passes both.
"""

from __future__ import annotations

from integration_hub.simulators.efatura.binding import Member, Type

# The public sources, cited by the comments below.
PHP = "tnhnclskn/efinans-php@a89ee938f92b2f8e82e0d1d7828b44e8bdf6e8b6"
# A Business Central extension, codeunit 70093480 "PRG_E-Invoice Efin. Connector" (public AL code found by
# the search index without its repository name): raw envelopes, SOAPAction '', members in its own order.
AL_CLIENT = "AL codeunit 'PRG_E-Invoice Efin. Connector'"
# A public Python adapter (``QnbSoapEfaturaAdapter``, repository name not recorded) whose notes report a
# live TEST1 backfill; posts ``"SOAPAction": ""``.
PY_CLIENT = "Python QnbSoapEfaturaAdapter"
# A public .NET utility (``EFinansIncommingInvoiceUtility``, namespace ``EFinansConnectorService``) calling
# the svcutil client ``gelenBelgeleriIndirAsync(vkn, string[] ettnler, belgeTuru, belgeFormati)``.
CS_CLIENT = "C# EFinansConnectorService client"
# QNB's own saved SOAP examples, quoted verbatim in a public C# test (ALKAROS ``QnbSoapClientTests``):
# ``<S:Envelope>``, ``<ns2:...Response xmlns:ns2="http://service.connector.uut.cs.com.tr/">``,
# ``<return xsi:type="ns2:gidenBelgeDurumv5">`` with base-type fields first, each type's alphabetical.
QNB_EXAMPLES = "QNB code library examples (quoted in ALKAROS QnbSoapClientTests)"

NAMESPACE = "http://service.connector.uut.cs.com.tr/"  # QNB_EXAMPLES (ns2 of every answer), efatura.md §1.4 (S-Q4)
USER_NAMESPACE = "http://service.csap.cs.com.tr/"  # QNB_EXAMPLES (okResponse), efatura.md §1.4 (S-Q4)
SOAP_ACTION = ""  # JAX-WS default; AL_CLIENT and PY_CLIENT send exactly this (see the module docstring)


def _sequence(name: str, *members: str | Member) -> Type:
    """An ``xs:sequence`` (a request wrapper or a complex type) of unqualified members, in WSDL order."""
    return Type(name, tuple(m if isinstance(m, Member) else Member(m) for m in members))


# PHP src/Type/GelenBelgeParametreleri.php (classmap 'gelenBelgeParametreleri').
GELEN_BELGE_PARAMETRELERI = _sequence(
    "gelenBelgeParametreleri",
    "alanEtiket",
    "belgeFormati",
    "belgeTuru",
    "belgeVersiyon",
    "belgelerAlindiMi",
    "donusTipiVersiyon",
    "entegrasyonHedefi",
    "erpKodu",
    "ettn",
    "faturaTarihiBaslangic",
    "faturaTarihiBitis",
    "gelisTarihiBaslangic",
    "gelisTarihiBitis",
    "gonderenEtiket",
    "onayDurum",
    "sonAlinanBelgeSiraNumarasi",
    "subeKodu",
    "vergiTcKimlikNo",
)
# PHP src/Type/GidenBelgeleriListeleParametreleri.php (classmap 'gidenBelgeleriListeleParametreleri').
GIDEN_BELGELERI_LISTELE_PARAMETRELERI = _sequence(
    "gidenBelgeleriListeleParametreleri",
    "baslangicBelgeTarihi",
    "baslangicGonderimTarihi",
    "belgeTuru",
    "bitisBelgeTarihi",
    "bitisGonderimTarihi",
    "vkn",
)

# Request wrappers: PHP src/Type/<Operation>.php, members in constructor (= WSDL) order.
OPERATIONS: dict[str, Type] = {
    s.name: s
    for s in (
        _sequence("gelenBelgeleriListele", "vergiTcKimlikNo", "sonAlinanBelgeSiraNumarasi", "belgeTuru"),
        _sequence("gelenBelgeleriListeleExt", Member("parametreler", type=GELEN_BELGE_PARAMETRELERI)),
        # ettnler repeats: CS_CLIENT passes string[] (see the module docstring).
        _sequence(
            "gelenBelgeleriIndir", "vergiTcKimlikNo", Member("ettnler", repeated=True), "belgeTuru", "belgeFormati"
        ),
        _sequence("gelenBelgeleriIndirExt", Member("parametreler", type=GELEN_BELGE_PARAMETRELERI)),
        _sequence("gidenBelgeleriListele", Member("parametreler", type=GIDEN_BELGELERI_LISTELE_PARAMETRELERI)),
        # belgeEttnListesi: the same List<String> shape as ettnler [I by analogy; AL_CLIENT sends one per call].
        _sequence(
            "gidenBelgeleriIndirEttn",
            "vergiTcKimlikNo",
            Member("belgeEttnListesi", repeated=True),
            "belgeTuru",
            "belgeFormati",
        ),
        # State-changing: PHP src/Type/BelgelerAlindi.php, src/Type/BelgeGonder.php. Whether belgelerAlindi's
        # ettn repeats is not recorded [I: accepted repeated, AL_CLIENT sends one].
        _sequence("belgelerAlindi", "vergiTcKimlikNo", Member("ettn", repeated=True), "belgeTuru"),
        _sequence(
            "belgeGonder", "vergiTcKimlikNo", "belgeTuru", "belgeNo", "veri", "belgeHash", "mimeType", "belgeVersiyon"
        ),
    )
}
STATE_CHANGING_OPERATIONS = frozenset({"belgelerAlindi", "belgeGonder"})

# userService.wsLogin(userId, password, lang): efatura.md §1.4 (S-Q1), the public JS and C# clients [order I].
WS_LOGIN = _sequence("wsLogin", "userId", "password", "lang")

# Answer types. JAXB writes a subtype's inherited fields first; each class's own fields are alphabetical
# (QNB_EXAMPLES' gidenBelgeDurumv5). The xsi:type names are the PHP classmap's (src/EfinansClassmap.php).
# PHP src/Type/Belge.php, Belgev2.php … Belgev6.php: belgev<n> extends belgev<n-1> [I: the chain; each
# class holds only the fields it adds].
BELGE_LEVELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "belge",
        (
            "belgeNo",
            "belgeSiraNo",
            "belgeTarihi",
            "belgeTuru",
            "belgeVerisi",
            "ettn",
            "gonderenEtiket",
            "gonderenVknTckn",
        ),
    ),
    (
        "belgev2",
        (
            "alanEtiket",
            "aliciUnvan",
            "belgeVersiyon",
            "belgeXmlZipped",
            "ekBilgiler",
            "saticiUnvan",
            "subeKodu",
            "zarfId",
            "zarfVerisi",
            "zarfXml",
        ),
    ),
    ("belgev3", ("odenecekTutar", "odenecekTutarDovizCinsi")),
    ("belgev4", ("arsivlenmis", "belgeHash")),
    ("belgev5", ("faturaGelisTarihi",)),
    ("belgev6", ("profileId",)),
)
# PHP src/Type/GidenBelgeleriListeleData.php: the rows of gidenBelgeleriListele [I: the generator typed the
# answer's return as ServiceReturnType; this is the one outgoing-list row type the classmap holds].
GIDEN_BELGELERI_LISTELE_DATA = (
    "alimDurumu",
    "alimZamani",
    "belgeOid",
    "belgeTarihi",
    "belgeTuru",
    "ettn",
    "hataMesaji",
    "islemYapanVkn",
    "kaynak",
    "kullaniciKodu",
    "yerelBelgeNo",
)


def belge_fields(level: int) -> tuple[str, tuple[str, ...]]:
    """The xsi:type name and the ordered fields of a ``belge`` row of return-type version ``level`` (1-6)."""
    fields = tuple(name for _, own in BELGE_LEVELS[:level] for name in own)
    return BELGE_LEVELS[level - 1][0], fields
