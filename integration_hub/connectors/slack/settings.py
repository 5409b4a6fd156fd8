"""Slack Web API constants the connector needs: where it is, how fast it may be called, what its errors mean.

Error codes are Slack's documented ``error`` values (HTTP 200, ``{"ok": false, "error": ...}``); the rate is
chat.postMessage's "about one message per second per channel" (api.slack.com/docs/rate-limits).
"""

from __future__ import annotations

import re

DEFAULT_BASE_URL = "https://slack.com/api"
TIMEOUT_SECONDS = 30.0
DEFAULT_REQUESTS_PER_MINUTE = 60

# The credential is refused: reconnect with a working token (never retried).
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})
# The channel setting cannot work: the message names the channel and the fix.
CHANNEL_ERRORS = {
    "channel_not_found": "was not found in the workspace (check the channel setting: an id like C0123ABCD or #name)",
    "not_in_channel": "does not have the app as a member (invite it: /invite @<app name> in that channel)",
    "is_archived": "is archived (unarchive it or point the channel setting at another channel)",
}
# Slack refused the message's blocks (nothing was posted): the alert is resent as plain text.
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})
# The token works but lacks the scope for a method.
SCOPE_ERRORS = frozenset({"missing_scope", "not_allowed_token_type"})

# A channel id (C..., G... private, D... direct message) as Slack's spec patterns them, or a #name.
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{8,}")
CHANNEL_NAME = re.compile(r"#[^\s#,.]{1,80}")
TOKEN_PREFIXES = ("xoxb-", "xoxp-")
