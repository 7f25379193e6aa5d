"""Test helper: a copy of a test's settings with some settings given as environment variables."""

from __future__ import annotations

import dataclasses

from cxpipe.settings import Settings, load_settings


def configured(settings: Settings, **environ: str) -> Settings:
    """``settings`` (paths and key kept) with its groups parsed from ``environ`` alone, e.g.

    ``configured(settings, CX_KEEP_PUBLICATIONS="2")``. Parsing goes through
    :func:`load_settings`, so a bad value raises its ``SettingsError`` here.
    """
    parsed = load_settings(environ)
    return dataclasses.replace(
        settings,
        schedule=parsed.schedule,
        ingest=parsed.ingest,
        gate=parsed.gate,
        publish=parsed.publish,
        alerts=parsed.alerts,
    )
