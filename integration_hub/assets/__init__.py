"""Collected assets: one per (integration, stream), all built by :func:`build_stream_asset`."""

from __future__ import annotations

import dagster as dg

from integration_hub.assets.factory import build_stream_asset
from integration_hub.assets.streams import STREAMS, StreamSpec, integrations, streams_of
from integration_hub.settings import CollectionConfig


def build_assets(config: CollectionConfig) -> dict[str, list[dg.AssetsDefinition]]:
    """Assets grouped by integration id."""
    return {
        integration_id: [build_stream_asset(spec, config) for spec in streams_of(integration_id)]
        for integration_id in integrations()
    }


__all__ = ["STREAMS", "StreamSpec", "build_assets", "build_stream_asset", "integrations", "streams_of"]
