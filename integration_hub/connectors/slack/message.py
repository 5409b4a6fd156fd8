"""Turn an :class:`~integration_hub.connectors.alerts.Alert` into a Slack message: Block Kit plus fallback text.

Layout, top to bottom: a ``header`` with the title; a ``section`` with the summary; the facts as ``fields``
(two columns, "*label*" over the value, ten per section as Block Kit allows); a button to the Dagster run
when the alert has a link; a ``context`` line with severity, company and integration. ``text`` repeats title
and summary: Slack shows it in notifications and to clients that cannot render blocks.

Block Kit's limits (header 150 characters, section text 3000, a field 2000, a button label 75, a URL 3000,
50 blocks) are applied here by shortening, and only an absolute http(s) link becomes a button, so a long
summary or an odd link never turns an alert into ``invalid_blocks``.
Text written into ``mrkdwn`` has ``&``, ``<`` and ``>`` escaped, as Slack's formatting guide asks: an error
message quoting ``<html>`` or ``a<b`` shows as written instead of becoming a broken link.
"""

from __future__ import annotations

from typing import Any

from integration_hub.connectors.alerts import Alert

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_PER_SECTION = 10
BUTTON_MAX = 75
URL_MAX = 3000
MAX_BLOCKS = 50
FALLBACK_MAX = 3000

SEVERITY_MARK = {"error": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}
RECOVERED_MARK = ":large_green_circle:"


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn and plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _mark(alert: Alert) -> str:
    return RECOVERED_MARK if alert.kind == "recovered" else SEVERITY_MARK.get(alert.severity, ":white_circle:")


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def fallback_text(alert: Alert) -> str:
    """The notification text: title and summary, one line each."""
    return shorten(escape(f"{alert.title}\n{alert.summary}".strip()), FALLBACK_MAX)


def render(alert: Alert) -> tuple[str, list[dict[str, Any]]]:
    """``(text, blocks)`` for chat.postMessage."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": shorten(alert.title, HEADER_MAX), "emoji": True}},
    ]
    if alert.summary.strip():
        blocks.append({"type": "section", "text": _mrkdwn(shorten(escape(alert.summary), SECTION_MAX))})
    facts = [(label, value) for label, value in alert.facts if str(label).strip()]
    for start in range(0, len(facts), FIELDS_PER_SECTION):
        chunk = facts[start : start + FIELDS_PER_SECTION]
        fields = [
            _mrkdwn(shorten(f"*{escape(str(label))}*\n{escape(str(value)) or '—'}", FIELD_MAX))
            for label, value in chunk
        ]
        blocks.append({"type": "section", "fields": fields})
    linkable = bool(alert.link) and alert.link.startswith(("https://", "http://")) and len(alert.link) <= URL_MAX
    if linkable:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": shorten("Open in Dagster", BUTTON_MAX)},
            "url": alert.link,
            "action_id": "open_in_dagster",
        }
        if alert.severity == "error" and alert.kind != "recovered":
            button["style"] = "danger"
        blocks.append({"type": "actions", "elements": [button]})
    context = [f"{_mark(alert)} *{escape(alert.severity)}*", f"kind: {escape(alert.kind)}"]
    if alert.company:
        context.append(f"company: {escape(alert.company)}")
    if alert.integration_id:
        context.append(f"integration: {escape(alert.integration_id)}")
    context.append(f"incident: {escape(alert.incident_id)}")
    if alert.link and not linkable:  # a button needs an absolute URL; anything else would be invalid_blocks
        context.append(f"link: {escape(shorten(alert.link, 300))}")
    blocks.append({"type": "context", "elements": [_mrkdwn(shorten("  ·  ".join(context), SECTION_MAX))]})
    if len(blocks) > MAX_BLOCKS:  # only an alert with hundreds of facts; keep the head, the link and the context
        blocks = [*blocks[: MAX_BLOCKS - 2], *blocks[-2:]]
    return fallback_text(alert), blocks
