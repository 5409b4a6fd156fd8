"""The Dagster UI as a data engineer sees it: ``make ui`` serves the code location; the asset catalog lists
every provider asset and the demo company's partitions show as materialized.

Drives Debian's Chromium (``/usr/bin/chromium``, installed by ``make system-deps`` before the suite, never by
a test and never a browser download) with Playwright, headless and without sandbox, and saves screenshots
under ``docs/screenshots``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from integration_hub.assets.factory import build_stream_asset
from integration_hub.assets.streams import STREAMS, streams_of
from integration_hub.instance import ensure_embedded_instance
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig, HubSettings
from integration_hub.store import Store
from integration_hub_tests.conftest import PROJECT_ROOT
from integration_hub_tests.support.dagster_helpers import connect, hub_resource, materialize_range

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> Path:
    """Debian's chromium package, installed by ``make test`` (``make system-deps``) before the suite runs."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make system-deps` (or `make test`, which installs it)")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout:.0f}s")


def _body_when(page, pattern: str, timeout: float) -> str:
    """The page's text once ``pattern`` appears in it (the UI fills columns in as its queries return)."""
    deadline = time.monotonic() + timeout
    while True:
        body = page.inner_text("body")
        if re.search(pattern, body, re.S) or time.monotonic() > deadline:
            assert re.search(pattern, body, re.S), body
            return body
        time.sleep(1)


def _dismiss_newsletter(page) -> None:
    """Dagster's first-visit "Join the community" dialog covers the page; skip it when it shows."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5_000)
        skip.click()
    except Exception:  # noqa: S110 - the dialog is optional (shown once per browser profile)
        pass


@pytest.mark.slow
def test_ui_lists_provider_assets_and_materialized_partitions(tmp_path: Path, fake_connectors) -> None:
    chromium = ensure_chromium()
    from playwright.sync_api import sync_playwright

    home = tmp_path / "hub"
    env = {"HUB_HOME": str(home)}
    settings = HubSettings.from_env(env)
    store = Store.open(settings)
    connect(store, company="demo-co", start_date="2024-01-01")
    dagster_home = settings.dagster_home
    ensure_embedded_instance(dagster_home)
    asset = build_stream_asset(streams_of("uyumsoft")[0], CollectionConfig())
    with dg.DagsterInstance.from_ref(dg._core.instance.ref.InstanceRef.from_dir(str(dagster_home))) as instance:
        result = materialize_range(
            asset, instance, hub_resource(settings), "demo-co", date(2024, 1, 1), date(2024, 1, 7)
        )
        assert result.success
    # Paused: the UI's own daemon (sensors run by default) must not start collecting from a real provider.
    ConnectionService(store).pause("demo-co", "uyumsoft", by="tester")
    store.dispose()

    port = _free_port()
    ui = subprocess.Popen(
        ["make", "--no-print-directory", "ui"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HUB_HOME": str(home), "DAGSTER_HOME": str(dagster_home), "HUB_UI_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _wait_http(f"{base}/server_info", 120)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{base}/assets?view=flat", wait_until="networkidle", timeout=120_000)
            _dismiss_newsletter(page)
            labels = [" / ".join(spec.key) for spec in STREAMS]
            for label in labels:
                page.get_by_text(label, exact=True).first.wait_for(timeout=60_000)
            # The catalog's partition column shows the partition space (company × days since the start), not what
            # is materialized; the materialized week is checked on the partitions page below. The counts arrive
            # after the asset list ("- partitions" until then), later still on a busy machine.
            body = _body_when(page, r"efatura / uyumsoft.*?[1-9][\d,]* partitions", timeout=90)
            assert all(label in body for label in labels)
            page.screenshot(path=str(SCREENSHOTS / "asset-catalog.png"), full_page=True)

            page.goto(f"{base}/asset-groups", wait_until="networkidle", timeout=120_000)
            page.get_by_text("uyumsoft").first.wait_for(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "asset-graph.png"))

            page.goto(f"{base}/assets/efatura/uyumsoft?view=partitions", wait_until="networkidle", timeout=120_000)
            _dismiss_newsletter(page)
            page.get_by_text("demo-co").first.wait_for(timeout=60_000)
            page.get_by_text("Materialized (7)").first.wait_for(timeout=60_000)
            partitions_text = page.inner_text("body")
            assert "demo-co" in partitions_text
            for state in ("Failed", "Materializing"):
                match = re.search(rf"{state} \((\d+)\)", partitions_text)
                assert match is None or match.group(1) == "0", partitions_text
            page.screenshot(path=str(SCREENSHOTS / "uyumsoft-partitions.png"), full_page=True)
            browser.close()
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        try:
            ui.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
