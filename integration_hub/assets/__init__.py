"""Collected assets: one per (integration, stream), all built by :func:`build_stream_asset`.

Imports Dagster only when an asset is built: the stream table (:mod:`.streams`) is also read by the CLI's health
listing, which should start without loading Dagster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integration_hub.assets.streams import STREAMS, StreamSpec, integrations, streams_of

if TYPE_CHECKING:
    import dagster as dg

    from integration_hub.settings import CollectionConfig


def build_assets(config: CollectionConfig) -> dict[str, list[dg.AssetsDefinition]]:
    """Assets grouped by integration id."""
    from integration_hub.assets.factory import build_stream_asset

    return {
        integration_id: [build_stream_asset(spec, config) for spec in streams_of(integration_id)]
        for integration_id in integrations()
    }


__all__ = ["STREAMS", "StreamSpec", "build_assets", "integrations", "streams_of"]
