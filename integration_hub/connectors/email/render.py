"""Turn an :class:`~integration_hub.connectors.alerts.Alert` into an e-mail's subject, text and HTML parts.

SMTP and Resend deliver the same rendering, so a person gets the same message whichever provider the hub
uses. The plain-text part is complete on its own (pagers, terminal mail readers); the HTML part adds a facts
table and a button-like link. Every value is HTML-escaped, and the subject is folded to one line, so an alert
text can never inject markup or a header.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from urllib.parse import urlparse

from integration_hub.connectors.alerts import Alert

INCIDENT_HEADER = "X-Hub-Incident"
SEVERITY_COLOURS = {"error": "#b42318", "warning": "#b54708", "info": "#175cd3"}
KIND_LABELS = {
    "failing": "Collection failing",
    "needs_reauthorization": "Credentials rejected",
    "behind": "Stream behind",
    "check_failed": "Asset check failed",
    "recovered": "Recovered",
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def one_line(value: str) -> str:
    """Whitespace (including CR/LF) collapsed: header values must not contain line breaks."""
    return " ".join(str(value).split())


def subject(alert: Alert) -> str:
    return one_line(f"[{alert.severity.upper()}] {alert.title}")


def idempotency_key(alert: Alert) -> str:
    """``<kind>/<incident_id>`` (Resend's suggested ``<event-type>/<entity-id>`` form), at most 256 characters.

    The incident's opening and its recovery share the incident id, so the kind keeps them two messages; a
    retried send of the same message reuses the key and Resend answers it without sending again.
    """
    key = f"{alert.kind}/{alert.incident_id}"
    if len(key) <= 256:
        return key
    return f"{alert.kind}/sha256-{hashlib.sha256(alert.incident_id.encode()).hexdigest()}"


def thread_reference(alert: Alert, domain: str) -> str:
    """A stable ``<...>`` id per incident, sent as ``References`` so mail clients thread opening and recovery."""
    digest = hashlib.sha256(alert.incident_id.encode()).hexdigest()[:32]
    return f"<incident.{digest}@{domain}>"


def _safe_link(link: str | None) -> str | None:
    if not link:
        return None
    parsed = urlparse(link.strip())
    return link.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def _facts(alert: Alert) -> list[tuple[str, str]]:
    facts = [("What", KIND_LABELS.get(alert.kind, alert.kind)), ("Severity", alert.severity)]
    if alert.company:
        facts.append(("Company", alert.company))
    if alert.integration_id:
        facts.append(("Integration", alert.integration_id))
    facts.extend((one_line(label), one_line(value)) for label, value in alert.facts)
    facts.append(("Incident", alert.incident_id))
    return facts


def render(alert: Alert) -> RenderedEmail:
    facts = _facts(alert)
    link = _safe_link(alert.link)
    width = max(len(label) for label, _ in facts)
    text_lines = [one_line(alert.title), "", alert.summary.strip(), ""]
    text_lines += [f"{label.ljust(width)}  {value}" for label, value in facts]
    if link:
        text_lines += ["", f"Open in Dagster: {link}"]
    text_lines += ["", "-- sent by integration-hub"]

    esc = html.escape
    colour = SEVERITY_COLOURS.get(alert.severity, "#344054")
    rows = "\n".join(
        f'<tr><th align="left" style="padding:4px 12px 4px 0;color:#475467">{esc(label)}</th>'
        f'<td style="padding:4px 0">{esc(value)}</td></tr>'
        for label, value in facts
    )
    link_html = (
        f'<p><a href="{esc(link, quote=True)}" style="color:{colour};font-weight:bold">Open in Dagster</a></p>'
        if link
        else ""
    )
    body = (
        "<!doctype html>\n"
        '<html><body style="font-family:Arial,Helvetica,sans-serif;color:#101828">\n'
        f'<h2 style="color:{colour};margin:0 0 8px">{esc(one_line(alert.title))}</h2>\n'
        f"<p>{esc(alert.summary.strip())}</p>\n"
        f'<table cellspacing="0" cellpadding="0">\n{rows}\n</table>\n'
        f"{link_html}\n"
        '<p style="color:#667085;font-size:12px">Sent by integration-hub.</p>\n'
        "</body></html>\n"
    )
    return RenderedEmail(
        subject=subject(alert),
        text="\n".join(text_lines) + "\n",
        html=body,
        headers={INCIDENT_HEADER: one_line(alert.incident_id)},
    )
