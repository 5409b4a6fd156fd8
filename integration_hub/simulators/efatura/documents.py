"""Deterministic UBL-TR 1.2 invoice mailboxes for the e-invoice simulators.

Every simulator (Uyumsoft/CRS, EDM, QNB, İşNet) serves the same kind of documents in its own wrapping,
so the documents are generated here once, in code, with lxml. Their structure follows the six public
samples in ``shared/efatura-samples`` (GİB TEMELFATURA/TICARIFATURA, izibiz multi-VAT, USD, TEVKIFAT,
EARSIVFATURA): VKN/TCKN party ids next to MERSISNO/SAYACNO ids, person names for e-Arşiv customers, line
discounts as ``cac:AllowanceCharge``, several KDV rates per invoice, foreign currency with
``cac:PricingExchangeRate``, KDV withholding (``cac:WithholdingTaxTotal``; payable = tax inclusive −
withholding), returns (IADE with a ``cac:BillingReference``), upper-case ETTNs as in GİB's sample, and
some documents with a large base64 XSLT in ``cac:AdditionalDocumentReference``.

Two layers: :class:`InvoiceSpec` (what an invoice *is*, with exact Decimal totals that tests compare
against) and its rendered XML. :func:`generate_mailbox` returns both bundled as :class:`GeneratedInvoice`
(``.spec`` and ``.xml``).
"""

from __future__ import annotations

import base64
import functools
import io
import random
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {None: INVOICE_NS, "cac": CAC, "cbc": CBC, "ext": EXT, "xsi": XSI}
CENT = Decimal("0.01")
KDV = "0015"
LARGE_ATTACHMENT_BYTES = 256 * 1024
"""Size of the XSLT some generated documents embed (real izibiz documents carry ~260 KB)."""


# -- the invoice model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecParty:
    """A party as the generator knows it. ``vkn`` is the tax id (a TCKN when ``scheme`` is ``TCKN``)."""

    vkn: str
    name: str
    scheme: str = "VKN"
    city: str = "İSTANBUL"
    tax_office: str = "Büyük Mükellefler"
    extra_ids: tuple[tuple[str, str], ...] = ()

    @property
    def is_person(self) -> bool:
        return self.scheme == "TCKN"


@dataclass(frozen=True)
class SpecTax:
    """One tax on a line: KDV (``0015``), another tax, or a withholding code (602…)."""

    code: str
    name: str
    percent: Decimal
    taxable: Decimal
    amount: Decimal


@dataclass(frozen=True)
class SpecLine:
    id: str
    name: str
    description: str | None
    seller_item_id: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    discount_rate: Decimal
    discount: Decimal
    line_extension_amount: Decimal
    taxes: tuple[SpecTax, ...]
    withholding: SpecTax | None

    @property
    def gross(self) -> Decimal:
        return self.line_extension_amount + self.discount

    @property
    def tax_percent(self) -> Decimal:
        """The KDV rate of the line."""
        return next(t.percent for t in self.taxes if t.code == KDV)

    @property
    def tax_amount(self) -> Decimal:
        """The KDV amount of the line."""
        return next(t.amount for t in self.taxes if t.code == KDV)

    @property
    def tax_total(self) -> Decimal:
        return sum((t.amount for t in self.taxes), Decimal(0))


@dataclass(frozen=True)
class InvoiceSpec:
    """An invoice before rendering; every total is exact and matches the rendered XML."""

    ettn: str
    number: str
    direction: str
    issue_date: date
    issue_time: time
    created_at: datetime
    supplier: SpecParty
    customer: SpecParty
    profile: str
    type_code: str
    currency: str
    exchange_rate: Decimal | None
    lines: tuple[SpecLine, ...]
    attachment_size: int = 0
    upper_case_uuid: bool = False
    billing_reference: str | None = None
    note: str | None = None

    @property
    def profile_id(self) -> str:
        return self.profile

    @property
    def is_return(self) -> bool:
        return self.type_code in ("IADE", "TEVKIFATIADE")

    @property
    def line_extension_amount(self) -> Decimal:
        """``LegalMonetaryTotal/LineExtensionAmount``: gross before line discounts (as in GİB's sample)."""
        return sum((line.gross for line in self.lines), Decimal(0))

    @property
    def allowance_total(self) -> Decimal:
        return sum((line.discount for line in self.lines), Decimal(0))

    @property
    def tax_exclusive_amount(self) -> Decimal:
        return sum((line.line_extension_amount for line in self.lines), Decimal(0))

    @property
    def tax_amount(self) -> Decimal:
        """``TaxTotal/TaxAmount``: every tax of every line."""
        return sum((line.tax_total for line in self.lines), Decimal(0))

    @property
    def withholding_amount(self) -> Decimal:
        return sum((line.withholding.amount for line in self.lines if line.withholding), Decimal(0))

    @property
    def tax_inclusive_amount(self) -> Decimal:
        return self.tax_exclusive_amount + self.tax_amount

    @property
    def payable_amount(self) -> Decimal:
        return self.tax_inclusive_amount - self.withholding_amount

    def tax_subtotals(self) -> list[SpecTax]:
        """Line taxes grouped by (code, percent): one ``cac:TaxSubtotal`` each."""
        return _group(tax for line in self.lines for tax in line.taxes)

    def withholding_subtotals(self) -> list[SpecTax]:
        return _group(line.withholding for line in self.lines if line.withholding)


def _group(taxes: Iterable[SpecTax]) -> list[SpecTax]:
    grouped: dict[tuple[str, Decimal], SpecTax] = {}
    for tax in taxes:
        key = (tax.code, tax.percent)
        seen = grouped.get(key)
        grouped[key] = (
            tax
            if seen is None
            else SpecTax(tax.code, tax.name, tax.percent, seen.taxable + tax.taxable, seen.amount + tax.amount)
        )
    return [grouped[key] for key in sorted(grouped)]


@dataclass(frozen=True)
class GeneratedInvoice:
    """One mailbox entry: the contract fields simulators list, plus the rendered UBL-TR document."""

    ettn: str
    number: str
    direction: str
    issue_date: date
    created_at: datetime
    supplier_vkn: str
    supplier_name: str
    customer_vkn: str
    customer_name: str
    profile_id: str
    type_code: str
    currency: str
    payable: Decimal
    tax_exclusive: Decimal
    tax_total: Decimal
    line_count: int
    xml: bytes
    spec: InvoiceSpec | None = None

    @classmethod
    def from_spec(cls, spec: InvoiceSpec, xml: bytes) -> GeneratedInvoice:
        return cls(
            ettn=spec.ettn,
            number=spec.number,
            direction=spec.direction,
            issue_date=spec.issue_date,
            created_at=spec.created_at,
            supplier_vkn=spec.supplier.vkn,
            supplier_name=spec.supplier.name,
            customer_vkn=spec.customer.vkn,
            customer_name=spec.customer.name,
            profile_id=spec.profile,
            type_code=spec.type_code,
            currency=spec.currency,
            payable=spec.payable_amount,
            tax_exclusive=spec.tax_exclusive_amount,
            tax_total=spec.tax_amount,
            line_count=len(spec.lines),
            xml=xml,
            spec=spec,
        )


# -- catalogs -------------------------------------------------------------------------------------------


def vkn_with_check(first_nine: str) -> str:
    """Append GİB's VKN check digit so generated tax numbers pass real validators."""
    total = 0
    for i, char in enumerate(first_nine):
        tmp = (int(char) + 9 - i) % 10
        value = (tmp * 2 ** (9 - i)) % 9
        total += 9 if tmp != 0 and value == 0 else value
    return first_nine + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class _Item:
    name: str
    unit: str
    quantity: tuple[int, int]  # thousandths
    price: tuple[int, int]  # ten-thousandths of the currency unit
    kdv: int
    withholding: tuple[str, str, int] | None = None
    extra_tax: tuple[str, str, int] | None = None


_ELECTRICITY = _Item(
    "Elektrik Tüketim Bedeli",
    "KWH",
    (400_000, 25_000_000),
    (25_000, 42_000),
    20,
    extra_tax=("4071", "ELK.HAVAGAZ.TÜK.VER.", 1),
)
_CATALOG: dict[str, tuple[_Item, ...]] = {
    "electricity": (_ELECTRICITY,),
    "gas": (_Item("Doğalgaz Tüketim Bedeli", "MTQ", (100_000, 6_000_000), (80_000, 125_000), 20),),
    "fuel": (
        _Item("Motorin", "LTR", (40_000, 900_000), (380_000, 455_000), 20),
        _Item("Kurşunsuz Benzin 95", "LTR", (30_000, 300_000), (390_000, 460_000), 20),
    ),
    "office": (
        _Item("A4 Fotokopi Kağıdı 80 gr", "BX", (1_000, 40_000), (4_500_000, 7_000_000), 20),
        _Item("Toner Kartuşu", "C62", (1_000, 6_000), (12_000_000, 35_000_000), 20),
        _Item("Mesleki Kitap", "NIU", (1_000, 10_000), (2_000_000, 6_000_000), 10),
        _Item("Ofis Sandalyesi", "NIU", (1_000, 8_000), (30_000_000, 90_000_000), 20),
    ),
    "food": (
        _Item("Ekmek", "KGM", (5_000, 60_000), (400_000, 600_000), 1),
        _Item(
            "Yemek Servis Hizmeti",
            "C62",
            (20_000, 400_000),
            (1_500_000, 2_800_000),
            10,
            ("604", "Yemek servis hizmeti", 50),
        ),
        _Item("İçme Suyu 19 L", "NIU", (5_000, 40_000), (900_000, 1_400_000), 1),
    ),
    "services": (
        _Item(
            "Danışmanlık Hizmeti",
            "HUR",
            (1_000, 40_000),
            (15_000_000, 32_000_000),
            20,
            ("602", "Etüt, plan-proje, danışmanlık, denetim ve benzeri hizmetler", 90),
        ),
        _Item(
            "Temizlik Hizmeti", "DAY", (1_000, 22_000), (18_000_000, 30_000_000), 20, ("613", "Temizlik hizmeti", 90)
        ),
    ),
    "transport": (
        _Item(
            "Nakliye Hizmeti",
            "C62",
            (1_000, 12_000),
            (80_000_000, 250_000_000),
            20,
            ("624", "Yük taşımacılığı hizmeti", 20),
        ),
    ),
    "hotel": (_Item("Konaklama Hizmeti", "DAY", (1_000, 6_000), (25_000_000, 60_000_000), 10),),
    "sales": (
        _Item("Çelik Profil 40x40", "KGM", (100_000, 8_000_000), (350_000, 520_000), 20),
        _Item(
            "Montaj Hizmeti",
            "HUR",
            (1_000, 60_000),
            (9_000_000, 16_000_000),
            20,
            ("602", "Etüt, plan-proje, danışmanlık, denetim ve benzeri hizmetler", 90),
        ),
        _Item("Galvaniz Sac Levha", "MTK", (10_000, 900_000), (6_500_000, 9_500_000), 20),
        _Item("Paketleme Malzemesi", "NIU", (10_000, 500_000), (150_000, 900_000), 10),
    ),
}

_SUPPLIERS: tuple[tuple[str, str, str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("BOĞAZİÇİ ELEKTRİK DAĞITIM A.Ş.", "180003354", "BED", "electricity", "İSTANBUL", (("SAYACNO", "40012345"),)),
    ("İSTANBUL GAZ DAĞITIM SANAYİ VE TİCARET A.Ş.", "481005623", "IGD", "gas", "İSTANBUL", (("TESISATNO", "7004411"),)),
    ("ANADOLU AKARYAKIT ÜRÜNLERİ LTD. ŞTİ.", "068070412", "AKY", "fuel", "ANKARA", ()),
    ("KIRTASİYE DÜNYASI TİCARET A.Ş.", "553012987", "KRT", "office", "İZMİR", (("MERSISNO", "0553012987000017"),)),
    ("LEZZET YEMEK VE GIDA HİZMETLERİ A.Ş.", "610042210", "LZT", "food", "KOCAELİ", ()),
    ("DENGE DANIŞMANLIK VE DENETİM A.Ş.", "290050177", "DNG", "services", "İSTANBUL", (("TICARETSICILNO", "845512"),)),
    ("HIZLI LOJİSTİK TAŞIMACILIK LTD. ŞTİ.", "471003398", "HZL", "transport", "BURSA", ()),
    ("KAPADOKYA OTELCİLİK TURİZM A.Ş.", "522008814", "KPD", "hotel", "NEVŞEHİR", ()),
)
_COMPANY_CUSTOMERS = (
    ("MARMARA İNŞAAT TAAHHÜT A.Ş.", "611004457", "İSTANBUL"),
    ("EGE METAL SANAYİ LTD. ŞTİ.", "322019936", "MANİSA"),
    ("TRAKYA YAPI MARKET A.Ş.", "840031127", "TEKİRDAĞ"),
)
_PERSON_CUSTOMERS = (
    ("Ayşe", "KAYA", "1234567890"),
    ("Mehmet", "DEMİR", "2345678901"),
    ("Zeynep", "ÇELİK", "3456789012"),
)
_RATES = {"USD": (Decimal("32.1000"), Decimal("39.9000")), "EUR": (Decimal("35.2000"), Decimal("44.1000"))}


def _supplier_party(entry: tuple) -> SpecParty:
    name, nine, _series, _kind, city, extra = entry
    return SpecParty(vkn_with_check(nine), name, "VKN", city, f"{city.title()} VD", extra)


def _tckn(seed_digits: str) -> str:
    """An 11-digit TCKN with valid check digits (first digit non-zero)."""
    digits = [int(c) for c in seed_digits[:9]]
    d10 = ((sum(digits[0:9:2]) * 7) - sum(digits[1:8:2])) % 10
    d11 = (sum(digits) + d10) % 10
    return "".join(map(str, digits)) + str(d10) + str(d11)


# -- generation -----------------------------------------------------------------------------------------


def _amount(rng: random.Random, bounds: tuple[int, int], scale: str) -> Decimal:
    return (Decimal(rng.randint(*bounds)) * Decimal(scale)).normalize()


def _make_line(rng: random.Random, index: int, item: _Item, withholding: bool, serial: int) -> SpecLine:
    quantity = _amount(rng, item.quantity, "0.001").quantize(Decimal("0.001")).normalize()
    price = _amount(rng, item.price, "0.0001").quantize(Decimal("0.0001")).normalize()
    gross = (quantity * price).quantize(CENT, ROUND_HALF_UP)
    rate = Decimal(rng.choice((0, 0, 0, 5, 10))) / 100
    discount = (gross * rate).quantize(CENT, ROUND_HALF_UP)
    net = gross - discount
    kdv_amount = (net * item.kdv / 100).quantize(CENT, ROUND_HALF_UP)
    taxes = [SpecTax(KDV, "KDV", Decimal(item.kdv), net, kdv_amount)]
    if item.extra_tax:
        code, name, percent = item.extra_tax
        taxes.append(SpecTax(code, name, Decimal(percent), net, (net * percent / 100).quantize(CENT, ROUND_HALF_UP)))
    held = None
    if withholding and item.withholding:
        code, name, percent = item.withholding
        held = SpecTax(
            code, name, Decimal(percent), kdv_amount, (kdv_amount * percent / 100).quantize(CENT, ROUND_HALF_UP)
        )
    return SpecLine(
        id=str(index),
        name=item.name,
        description=f"{item.name} ({quantity} {item.unit})" if rng.random() < 0.3 else None,
        seller_item_id=f"STK-{serial:05d}",
        quantity=quantity,
        unit_code=item.unit,
        unit_price=price,
        discount_rate=rate,
        discount=discount,
        line_extension_amount=net,
        taxes=tuple(taxes),
        withholding=held,
    )


class _Numbering:
    """16-character invoice numbers: 3-char series + year + 9-digit sequence, per issuer and year."""

    def __init__(self) -> None:
        self.counters: dict[tuple[str, int], int] = {}

    def next(self, series: str, year: int) -> str:
        key = (series, year)
        self.counters[key] = self.counters.get(key, 0) + 1
        return f"{series}{year}{self.counters[key]:09d}"


def _spec(
    rng: random.Random,
    direction: str,
    company: SpecParty,
    day: date,
    numbering: _Numbering,
    previous: InvoiceSpec | None,
) -> InvoiceSpec:
    roll = rng.random()
    if direction == "in":
        entry = rng.choice(_SUPPLIERS)
        supplier, customer, series, kind = _supplier_party(entry), company, entry[2], entry[3]
        profile = "TICARIFATURA" if rng.random() < 0.6 else "TEMELFATURA"
    else:
        supplier, series, kind = company, "ACM", "sales"
        if rng.random() < 0.3:
            first, family, digits = rng.choice(_PERSON_CUSTOMERS)
            customer = SpecParty(_tckn(digits), f"{first} {family}", "TCKN", "ANKARA", "")
            profile, series = "EARSIVFATURA", "ARS"
        else:
            name, nine, city = rng.choice(_COMPANY_CUSTOMERS)
            customer = SpecParty(vkn_with_check(nine), name, "VKN", city, f"{city.title()} VD")
            profile = "TICARIFATURA" if rng.random() < 0.5 else "TEMELFATURA"
    items = _CATALOG[kind]
    can_withhold = not customer.is_person and any(item.withholding for item in items)
    if roll < 0.08:
        type_code = "IADE"
    elif can_withhold and roll < 0.30:
        type_code = "TEVKIFAT"
    elif can_withhold and roll < 0.33:
        type_code = "TEVKIFATIADE"
    else:
        type_code = "SATIS"
    if type_code in ("IADE", "TEVKIFATIADE") and profile == "TICARIFATURA":
        profile = "TEMELFATURA"  # GİB: returns travel as TEMELFATURA
    currency, rate = "TRY", None
    if profile != "EARSIVFATURA" and type_code == "SATIS" and rng.random() < 0.1:
        currency = rng.choice(sorted(_RATES))
        low, high = _RATES[currency]
        rate = (low + (high - low) * Decimal(rng.random())).quantize(Decimal("0.0001"))
    withholding = type_code.startswith("TEVKIFAT")
    if withholding:
        chosen = [rng.choice([item for item in items if item.withholding])]
    else:
        chosen = [rng.choice(items) for _ in range(rng.choice((1, 1, 1, 2, 3, 4)))]
    serial_base = rng.randint(1, 90000)
    lines = tuple(_make_line(rng, i + 1, item, withholding, serial_base + i) for i, item in enumerate(chosen))
    issue_time = time(rng.randint(7, 22), rng.randint(0, 59), rng.randint(0, 59))
    if previous is not None and previous.created_at > datetime.combine(day, issue_time, UTC) and rng.random() < 0.25:
        created_at = previous.created_at  # several invoices arrive in the same second
    else:
        lag = rng.choice((0, 0, 0, 0, 1, 1, 2, 3))
        created_at = datetime.combine(day + timedelta(days=lag), issue_time, UTC) + timedelta(
            minutes=rng.randint(1, 180), seconds=rng.randint(0, 59)
        )
    number = numbering.next(series, day.year)
    return InvoiceSpec(
        ettn=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        number=number,
        direction=direction,
        issue_date=day,
        issue_time=issue_time,
        created_at=created_at,
        supplier=supplier,
        customer=customer,
        profile=profile,
        type_code=type_code,
        currency=currency,
        exchange_rate=rate,
        lines=lines,
        attachment_size=LARGE_ATTACHMENT_BYTES if rng.random() < 0.1 else 0,
        upper_case_uuid=rng.random() < 0.25,
        billing_reference=f"{series}{day.year - 1}{rng.randint(1, 999):09d}" if type_code.endswith("IADE") else None,
        note="Dövizli satış faturası" if rate is not None else None,
    )


def generate_mailbox(
    seed: int,
    company_vkn: str,
    company_name: str,
    start: date,
    days: int,
    per_day: tuple[int, int] = (0, 4),
) -> list[GeneratedInvoice]:
    """``days`` days of invoices from ``start`` for one company, rendered; deterministic for ``seed``.
    Both directions, ``per_day`` = (min, max) invoices per day *per direction*; sorted by ``created_at``
    then ETTN."""
    if days < 1:
        raise ValueError("days must be at least 1")
    low, high = per_day
    if low < 0 or high < low:
        raise ValueError("per_day must be (min, max) with 0 <= min <= max")
    rng = random.Random(f"{seed}:{company_vkn}")
    company = SpecParty(
        company_vkn, company_name, "VKN", "İSTANBUL", "Büyük Mükellefler", (("MERSISNO", "0" + company_vkn + "00015"),)
    )
    numbering = _Numbering()
    specs: list[InvoiceSpec] = []
    previous: InvoiceSpec | None = None
    for offset in range(days):
        day = start + timedelta(days=offset)
        for direction in ("in", "out"):
            for _ in range(rng.randint(low, high)):
                previous = _spec(rng, direction, company, day, numbering, previous)
                specs.append(previous)
    specs.sort(key=lambda s: (s.created_at, s.ettn))
    return [GeneratedInvoice.from_spec(spec, _render_ubl(spec)) for spec in specs]


# -- rendering ------------------------------------------------------------------------------------------


def _el(parent: etree._Element, ns: str, tag: str, text: object | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = text if isinstance(text, str) else _fmt(text)
    return element


def _fmt(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _money(parent: etree._Element, tag: str, amount: Decimal, currency: str) -> None:
    _el(parent, CBC, tag, _fmt(amount), currencyID=currency)


@functools.lru_cache(maxsize=8)
def _attachment(size: int) -> str:
    """A base64 XSLT of about ``size`` bytes (cached: simulators embed the same one many times)."""
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n'
    body = b'<xsl:template match="/"><html><body><xsl:value-of select="//cbc:ID"/></body></html></xsl:template>\n'
    tail = b"</xsl:stylesheet>\n"
    content = head + body * max(1, (size - len(head) - len(tail)) // len(body)) + tail
    return base64.b64encode(content).decode("ascii")


def _party(parent: etree._Element, role: str, party: SpecParty) -> None:
    node = _el(_el(parent, CAC, role), CAC, "Party")
    _el(node, CBC, "WebsiteURI")
    for scheme, value in ((party.scheme, party.vkn), *party.extra_ids):
        _el(_el(node, CAC, "PartyIdentification"), CBC, "ID", value, schemeID=scheme)
    if not party.is_person:
        _el(_el(node, CAC, "PartyName"), CBC, "Name", party.name)
    address = _el(node, CAC, "PostalAddress")
    _el(address, CBC, "StreetName", "Atatürk Caddesi")
    _el(address, CBC, "BuildingNumber", "12")
    _el(address, CBC, "CitySubdivisionName", "Merkez")
    _el(address, CBC, "CityName", party.city)
    _el(_el(address, CAC, "Country"), CBC, "Name", "Türkiye")
    if party.tax_office:
        _el(_el(_el(node, CAC, "PartyTaxScheme"), CAC, "TaxScheme"), CBC, "Name", party.tax_office)
    if party.is_person:
        person = _el(node, CAC, "Person")
        first, _, family = party.name.rpartition(" ")
        _el(person, CBC, "FirstName", first or party.name)
        _el(person, CBC, "FamilyName", family if first else ".")


def _tax_total(parent: etree._Element, tag: str, taxes: list[SpecTax], currency: str, sequence: bool) -> None:
    total = _el(parent, CAC, tag)
    _money(total, "TaxAmount", sum((t.amount for t in taxes), Decimal(0)), currency)
    for index, tax in enumerate(taxes, start=1):
        sub = _el(total, CAC, "TaxSubtotal")
        _money(sub, "TaxableAmount", tax.taxable, currency)
        _money(sub, "TaxAmount", tax.amount, currency)
        if sequence:
            _el(sub, CBC, "CalculationSequenceNumeric", str(index))
        _el(sub, CBC, "Percent", tax.percent)
        scheme = _el(_el(sub, CAC, "TaxCategory"), CAC, "TaxScheme")
        _el(scheme, CBC, "Name", tax.name if tag == "TaxTotal" or tax.code == KDV else f"{tax.code} - {tax.name}")
        _el(scheme, CBC, "TaxTypeCode", tax.code)


def _line(parent: etree._Element, line: SpecLine, currency: str) -> None:
    node = _el(parent, CAC, "InvoiceLine")
    _el(node, CBC, "ID", line.id)
    _el(node, CBC, "InvoicedQuantity", line.quantity, unitCode=line.unit_code)
    _money(node, "LineExtensionAmount", line.line_extension_amount, currency)
    if line.discount:
        charge = _el(node, CAC, "AllowanceCharge")
        _el(charge, CBC, "ChargeIndicator", "false")
        _el(charge, CBC, "MultiplierFactorNumeric", line.discount_rate)
        _money(charge, "Amount", line.discount, currency)
        _money(charge, "BaseAmount", line.gross, currency)
    _tax_total(node, "TaxTotal", list(line.taxes), currency, sequence=False)
    if line.withholding:
        _tax_total(node, "WithholdingTaxTotal", [line.withholding], currency, sequence=False)
    item = _el(node, CAC, "Item")
    if line.description:
        _el(item, CBC, "Description", line.description)
    _el(item, CBC, "Name", line.name)
    _el(_el(item, CAC, "SellersItemIdentification"), CBC, "ID", line.seller_item_id)
    _money(_el(node, CAC, "Price"), "PriceAmount", line.unit_price, currency)


def _render_ubl(spec: InvoiceSpec) -> bytes:
    """The full UBL-TR 1.2 XML of ``spec`` (with a large embedded XSLT when the spec has one: about one
    document in ten)."""
    cur = spec.currency
    root = etree.Element(f"{{{INVOICE_NS}}}Invoice", nsmap=NSMAP)
    root.set(f"{{{XSI}}}schemaLocation", f"{INVOICE_NS} UBL-Invoice-2.1.xsd")
    _el(_el(_el(root, EXT, "UBLExtensions"), EXT, "UBLExtension"), EXT, "ExtensionContent")
    _el(root, CBC, "UBLVersionID", "2.1")
    _el(root, CBC, "CustomizationID", "TR1.2")
    _el(root, CBC, "ProfileID", spec.profile)
    _el(root, CBC, "ID", spec.number)
    _el(root, CBC, "CopyIndicator", "false")
    _el(root, CBC, "UUID", spec.ettn.upper() if spec.upper_case_uuid else spec.ettn)
    _el(root, CBC, "IssueDate", spec.issue_date)
    _el(root, CBC, "IssueTime", spec.issue_time)
    _el(root, CBC, "InvoiceTypeCode", spec.type_code)
    if spec.note:
        _el(root, CBC, "Note", spec.note)
    _el(root, CBC, "DocumentCurrencyCode", cur)
    _el(root, CBC, "LineCountNumeric", str(len(spec.lines)))
    if spec.billing_reference:
        ref = _el(_el(root, CAC, "BillingReference"), CAC, "InvoiceDocumentReference")
        _el(ref, CBC, "ID", spec.billing_reference)
        _el(ref, CBC, "IssueDate", spec.issue_date - timedelta(days=20))
    size = spec.attachment_size
    if size:
        doc = _el(root, CAC, "AdditionalDocumentReference")
        _el(doc, CBC, "ID", spec.ettn)
        _el(doc, CBC, "IssueDate", spec.issue_date)
        _el(doc, CBC, "DocumentType", "XSLT")
        _el(
            _el(doc, CAC, "Attachment"),
            CBC,
            "EmbeddedDocumentBinaryObject",
            _attachment(size),
            characterSetCode="UTF-8",
            encodingCode="Base64",
            filename=f"{spec.number}.xslt",
            mimeCode="application/xml",
        )
    if spec.profile == "EARSIVFATURA":
        doc = _el(root, CAC, "AdditionalDocumentReference")
        _el(doc, CBC, "ID", "1")
        _el(doc, CBC, "IssueDate", spec.issue_date)
        _el(doc, CBC, "DocumentTypeCode", "SendingType")
        _el(doc, CBC, "DocumentType", "ELEKTRONIK")
    signature = _el(root, CAC, "Signature")
    _el(signature, CBC, "ID", spec.supplier.vkn, schemeID="VKN_TCKN")
    _el(
        _el(_el(signature, CAC, "SignatoryParty"), CAC, "PartyIdentification"),
        CBC,
        "ID",
        spec.supplier.vkn,
        schemeID="VKN",
    )
    _el(
        _el(_el(signature, CAC, "DigitalSignatureAttachment"), CAC, "ExternalReference"),
        CBC,
        "URI",
        f"#Signature_{spec.number}",
    )
    _party(root, "AccountingSupplierParty", spec.supplier)
    _party(root, "AccountingCustomerParty", spec.customer)
    if spec.exchange_rate is not None:
        rate = _el(root, CAC, "PricingExchangeRate")
        _el(rate, CBC, "SourceCurrencyCode", cur)
        _el(rate, CBC, "TargetCurrencyCode", "TRY")
        _el(rate, CBC, "CalculationRate", spec.exchange_rate)
        _el(rate, CBC, "Date", spec.issue_date)
    _tax_total(root, "TaxTotal", spec.tax_subtotals(), cur, sequence=True)
    if spec.withholding_amount or any(line.withholding for line in spec.lines):
        _tax_total(root, "WithholdingTaxTotal", spec.withholding_subtotals(), cur, sequence=False)
    totals = _el(root, CAC, "LegalMonetaryTotal")
    _money(totals, "LineExtensionAmount", spec.line_extension_amount, cur)
    _money(totals, "TaxExclusiveAmount", spec.tax_exclusive_amount, cur)
    _money(totals, "TaxInclusiveAmount", spec.tax_inclusive_amount, cur)
    _money(totals, "AllowanceTotalAmount", spec.allowance_total, cur)
    _money(totals, "ChargeTotalAmount", Decimal("0.00"), cur)
    _money(totals, "PayableAmount", spec.payable_amount, cur)
    for line in spec.lines:
        _line(root, line, cur)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# -- wrapping helpers -----------------------------------------------------------------------------------


def zip_documents(docs: Iterable[tuple[str, bytes]]) -> bytes:
    """A deflated zip of ``(name, content)`` pairs, as QNB and bulk downloads deliver documents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in docs:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    """Base64 text (how SOAP services carry documents)."""
    return base64.b64encode(data).decode("ascii")


__all__ = [
    "GeneratedInvoice",
    "InvoiceSpec",
    "SpecLine",
    "SpecParty",
    "SpecTax",
    "b64",
    "generate_mailbox",
    "vkn_with_check",
    "zip_documents",
]
