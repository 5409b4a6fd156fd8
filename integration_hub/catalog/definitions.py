"""The code-first registry of integration definitions.

The e-invoice integrators use the fields each service really needs (efatura.md): Uyumsoft, CRS Soft,
EDM and QNB authenticate with a username and password; İşNet has no password at all and identifies a
company by its tax number (VKN), so its definition asks for that instead. Every collecting integration
has a ``start_date`` (where the first backfill begins) and, for the SOAP services, an ``environment``
that picks the provider's test or production URL, overridable with ``base_url``.

Every setting a connector reads is declared here, because validation rejects unknown fields: a setting
missing from its definition could never be set. The e-invoice services also take ``requests_per_minute``
(the client-side rate limit; its default is the connector's own, repeated here because the catalog does
not import connectors — a registry test keeps the two equal), Uyumsoft and CRS Soft ``auth_style``, and
QNB ``download_batch``.
"""

from __future__ import annotations

from decimal import Decimal

from integration_hub.catalog.model import (
    Availability,
    AvailabilityRule,
    ConnectionStyle,
    FieldType,
    IntegrationDefinition,
    SettingField,
)
from integration_hub.settings import HubSettings

COMMUNITY_INTEGRATIONS = frozenset({"email", "exchange_rates"})

VKN_PATTERN = r"\d{10,11}"
VKN_HINT = "must be a 10-digit VKN or an 11-digit TCKN"


def _rule(integration_id: str, *, oauth: str | None = None, hidden_when_controlled: bool = False) -> AvailabilityRule:
    """Availability = edition allows it AND its OAuth client is configured AND deployment policy allows it."""

    def rule(settings: HubSettings) -> Availability:
        reasons = []
        if settings.edition == "community" and integration_id not in COMMUNITY_INTEGRATIONS:
            reasons.append("needs the enterprise edition (HUB_EDITION=enterprise)")
        if oauth and not settings.oauth_configured(oauth):
            reasons.append(f"its OAuth client is not configured ({oauth}_CLIENT_ID and {oauth}_CLIENT_SECRET)")
        if hidden_when_controlled and settings.controlled_environment:
            reasons.append("hidden in a controlled (ITAR) environment")
        return Availability(not reasons, "; ".join(reasons))

    return rule


def _start_date(what: str) -> SettingField:
    return SettingField(
        "start_date",
        "Start date",
        FieldType.DATE,
        required=True,
        description=f"Collect {what} from this day on (the first backfill starts here).",
    )


def _environment() -> SettingField:
    return SettingField(
        "environment",
        "Environment",
        FieldType.CHOICE,
        default="production",
        choices=("test", "production"),
        description="Which of the provider's services to use.",
    )


def _base_url() -> SettingField:
    return SettingField(
        "base_url",
        "Service URL",
        FieldType.URL,
        description="Overrides the environment's URL (private deployments, simulators).",
    )


def _username() -> SettingField:
    return SettingField("username", "Username", required=True)


def _password() -> SettingField:
    return SettingField("password", "Password", required=True, secret=True)


def _vkn(label: str, description: str) -> SettingField:
    return SettingField(
        "vkn", label, required=True, pattern=VKN_PATTERN, pattern_hint=VKN_HINT, description=description
    )


def _requests_per_minute(default: int, why: str) -> SettingField:
    return SettingField(
        "requests_per_minute",
        "Requests per minute",
        FieldType.INTEGER,
        default=default,
        minimum=Decimal(1),
        maximum=Decimal(600),
        description=f"Client-side rate limit per account ({why}).",
    )


def _auth_style(who: str) -> SettingField:
    return SettingField(
        "auth_style",
        "Authentication style",
        FieldType.CHOICE,
        default="ws_security",
        choices=("ws_security", "user_info"),
        description=f"WS-Security header (default) or the userInfo body element some {who} need.",
    )


def _einvoice(
    integration_id: str, name: str, description: str, *fields: SettingField, rate: SettingField
) -> IntegrationDefinition:
    return IntegrationDefinition(
        id=integration_id,
        name=name,
        category="ERP / e-invoice",
        style=ConnectionStyle.CREDENTIALS,
        fields=(*fields, _start_date("invoices issued"), _environment(), _base_url(), rate),
        description=description,
        availability=_rule(integration_id),
    )


def _api_key(field_name: str = "api_key", label: str = "API key", **kwargs: object) -> SettingField:
    return SettingField(field_name, label, required=True, secret=True, **kwargs)  # type: ignore[arg-type]


def _oauth(
    integration_id: str, name: str, category: str, description: str, *extra: SettingField
) -> IntegrationDefinition:
    """OAuth integrations: tokens arrive through the provider's consent flow, never typed by a person."""
    provider = integration_id.upper()
    return IntegrationDefinition(
        id=integration_id,
        name=name,
        category=category,
        style=ConnectionStyle.OAUTH,
        fields=(
            SettingField("access_token", "Access token", secret=True, description="Set by the OAuth flow."),
            SettingField("refresh_token", "Refresh token", secret=True, description="Set by the OAuth flow."),
            *extra,
        ),
        description=description,
        availability=_rule(integration_id, oauth=provider),
    )


_SMTP = {"provider": ("smtp",)}
_RESEND = {"provider": ("resend",)}

DEFINITIONS: tuple[IntegrationDefinition, ...] = (
    _einvoice(
        "edm",
        "EDM Bilişim e-Fatura",
        "Incoming and outgoing e-Fatura / e-Arşiv invoices from EDM's SOAP service (session login).",
        _username(),
        _password(),
        rate=_requests_per_minute(600, "EDM publishes no limit; this only spaces a burst of pages"),
    ),
    _einvoice(
        "qnb_esolutions",
        "QNB e-Solutions",
        "Incoming and outgoing invoices from QNB e-Solutions (eFinans) connectorService.",
        _username(),
        _password(),
        _vkn("Company tax number", "The company's VKN/TCKN, sent with every listing call."),
        SettingField(
            "download_batch",
            "Documents per download",
            FieldType.INTEGER,
            default=100,
            minimum=Decimal(1),
            maximum=Decimal(100),
            description="ETTNs asked for in one download call; QNB publishes no limit, 100 matches its list page.",
        ),
        rate=_requests_per_minute(180, "QNB's limit for ERP integrations"),
    ),
    _einvoice(
        "crs_soft",
        "CRS Soft",
        "Invoices from CRS Soft's e-invoice service (the Uyumsoft platform at CRS's address).",
        _username(),
        _password(),
        _auth_style("CRS accounts"),
        rate=_requests_per_minute(300, "no published limit; the Uyumsoft platform's default"),
    ),
    _einvoice(
        "isnet",
        "İşNet",
        "Invoices from İşNet (NetteFatura). No password: İşNet identifies the company by its tax number "
        "and whitelists the hub's egress IP.",
        _vkn("Company tax number", "The company's VKN/TCKN; İşNet's only identity."),
        rate=_requests_per_minute(120, "İşNet publishes no limit"),
    ),
    _einvoice(
        "uyumsoft",
        "Uyumsoft",
        "Incoming and outgoing e-Fatura / e-Arşiv invoices from Uyumsoft's Integration service.",
        _username(),
        _password(),
        _auth_style("Uyumsoft-family deployments"),
        rate=_requests_per_minute(300, "Uyumsoft publishes no limit"),
    ),
    IntegrationDefinition(
        id="karbon",
        name="Karbon",
        category="Practice management",
        style=ConnectionStyle.API_KEY,
        fields=(
            SettingField(
                "application_id",
                "Application ID",
                required=True,
                pattern=r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                pattern_hint="must be the API application's GUID (the Bearer token)",
                description="Sent as 'Authorization: Bearer <Application ID>'.",
            ),
            SettingField(
                "access_key",
                "Access key",
                required=True,
                secret=True,
                pattern=r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
                pattern_hint="must be the account's Access Key (a JWT starting with 'eyJ')",
                description="Sent as the 'AccessKey' header.",
            ),
            SettingField("base_url", "API base URL", FieldType.URL, default="https://api.karbonhq.com"),
            _start_date("Karbon records"),
            SettingField(
                "webhook_signing_key",
                "Webhook signing key",
                secret=True,
                pattern=r"[A-Za-z0-9_-]{16,}",
                pattern_hint="must be at least 16 characters of letters, digits, '-' and '_'",
                description="SigningKey of the hub's webhook subscriptions; incoming webhooks must carry a valid "
                "Signature when it is set.",
            ),
            SettingField(
                "requests_per_minute",
                "Requests per minute",
                FieldType.INTEGER,
                default=120,
                minimum=Decimal(1),
                maximum=Decimal(600),
                description="Client-side rate limit per API application and account (Karbon recommends 120).",
            ),
        ),
        description="Karbon practice management: Tenant, Work, Contacts, Time, AR, ContentItems, Accounting.",
        availability=_rule("karbon"),
    ),
    IntegrationDefinition(
        id="email",
        name="Email",
        category="Email",
        style=ConnectionStyle.PROVIDER_SETTINGS,
        fields=(
            SettingField(
                "provider", "Provider", FieldType.CHOICE, required=True, default="resend", choices=("resend", "smtp")
            ),
            SettingField(
                "from_email",
                "From address",
                required=True,
                pattern=r"[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+",
                pattern_hint="must be an e-mail address",
            ),
            SettingField(
                "to_emails",
                "Recipients",
                required=True,
                pattern=r"\s*[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+\s*(,\s*[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+\s*)*",
                pattern_hint="must be e-mail addresses separated by commas",
                description="Who receives the alerts: one or more addresses separated by commas (Resend takes 50).",
                max_length=4096,
            ),
            SettingField("api_key", "Resend API key", required=True, secret=True, visible_when=_RESEND),
            SettingField(
                "base_url",
                "Resend API URL",
                FieldType.URL,
                default="https://api.resend.com",
                visible_when=_RESEND,
                description="Override only for a proxy or the local simulator.",
            ),
            SettingField("host", "SMTP host", required=True, visible_when=_SMTP),
            SettingField(
                "port",
                "SMTP port",
                FieldType.INTEGER,
                required=True,
                default=587,
                minimum=Decimal(1),
                maximum=Decimal(65535),
                visible_when=_SMTP,
            ),
            SettingField(
                "security",
                "SMTP security",
                FieldType.CHOICE,
                default="starttls",
                choices=("starttls", "tls", "none"),
                visible_when=_SMTP,
                description="starttls (port 587), tls = implicit TLS (port 465), none only to 127.0.0.1/localhost.",
            ),
            SettingField(
                "username",
                "SMTP username",
                visible_when=_SMTP,
                description="Leave empty for a relay without AUTH; a username needs a password and vice versa.",
            ),
            SettingField("password", "SMTP password", secret=True, visible_when=_SMTP),
            SettingField(
                "ca_file",
                "Trusted CA file",
                visible_when=_SMTP,
                description="PEM file of the CA that signed the SMTP server's certificate (a private CA); "
                "empty trusts the system's CAs.",
                max_length=1024,
            ),
            SettingField(
                "secure",
                "Use TLS (replaced by security)",
                FieldType.BOOLEAN,
                visible_when=_SMTP,
                description="Kept so settings stored before 'security' existed still validate; ignored.",
            ),
        ),
        description="Alert and report e-mail through Resend or any SMTP server.",
        availability=_rule("email"),
    ),
    IntegrationDefinition(
        id="exchange_rates",
        name="Exchange Rates",
        category="Accounting",
        style=ConnectionStyle.API_KEY,
        fields=(_api_key(),),
        description="Daily currency exchange rates for converting foreign-currency invoices.",
        availability=_rule("exchange_rates"),
    ),
    IntegrationDefinition(
        id="linear",
        name="Linear",
        category="Project management",
        style=ConnectionStyle.API_KEY,
        fields=(_api_key(pattern=r"lin_api_\S+", pattern_hint="must be a Linear API key (starts with lin_api_)"),),
        description="Linear issues for data-quality follow-ups.",
        availability=_rule("linear"),
    ),
    IntegrationDefinition(
        id="paperless_parts",
        name="Paperless Parts",
        category="Estimating & quoting",
        style=ConnectionStyle.API_KEY,
        fields=(
            _api_key(),
            _api_key("webhook_signing_secret", "Webhook signing secret"),
        ),
        description="Quotes and orders from Paperless Parts (API key plus webhook signature verification).",
        availability=_rule("paperless_parts"),
    ),
    _oauth(
        "xero",
        "Xero",
        "Accounting",
        "Xero accounting data (invoices, contacts, payments).",
        SettingField("tenant_id", "Xero tenant", description="Chosen during OAuth consent."),
    ),
    _oauth("jira", "Jira", "Project management", "Jira issues for data-quality follow-ups."),
    _oauth("onshape", "Onshape", "CAD", "Onshape parts and assemblies for product footprints."),
    IntegrationDefinition(  # a pasted bot token today; the OAuth consent will fill the same access_token later
        id="slack",
        name="Slack",
        category="Alerts",
        style=ConnectionStyle.API_KEY,
        fields=(
            SettingField(
                "access_token",
                "Bot token",
                required=True,
                secret=True,
                pattern=r"xox[bp]-[A-Za-z0-9-]+",
                pattern_hint="must be a Slack bot token (xoxb-...) or user token (xoxp-...)",
                description="The installed app's Bot User OAuth Token (needs the chat:write scope; channels:read "
                "lets Test Connection check the channel).",
            ),
            SettingField(
                "channel",
                "Channel",
                required=True,
                pattern=r"[CGD][A-Z0-9]{8,}|#[^\s#,.]{1,80}",
                pattern_hint="must be a channel id (C0123ABCD) or a #name",
                description="Where alerts are posted; invite the app to it (/invite @app).",
            ),
            SettingField(
                "base_url",
                "API base URL",
                FieldType.URL,
                default="https://slack.com/api",
                description="Slack's Web API; change it only for a simulator or a proxy.",
            ),
        ),
        description="Run and data-quality alerts in Slack.",
        availability=_rule("slack", hidden_when_controlled=True),
    ),
)
