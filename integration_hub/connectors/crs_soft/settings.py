"""CRS Soft: the Uyumsoft ``Integration`` contract at CRS's own hosts (``efatura.md`` §1.2).

Only the addresses differ; operation names, SOAPActions and page sizes are Uyumsoft's
(:mod:`integration_hub.connectors.uyumsoft.settings`).
"""

from __future__ import annotations

PROVIDER = "crs_soft"
LABEL = "CRS Soft"

ENVIRONMENTS: dict[str, str] = {
    "test": "https://connect-test.crssoft.com/Services/Integration",
    "production": "https://connect.crssoft.com/Services/Integration",
}

# Public material does not say how CRS authenticates [I]. WS-Security (Uyumsoft's way) is the default;
# "user_info" sends <tem:userInfo Username=".." Password=".."/> before the query, as another
# Uyumsoft-family deployment (Bien Teknoloji) requires.
DEFAULT_AUTH_STYLE = "ws_security"
