"""Test helpers: a copy of a test's settings with some settings given as environment variables; a demo
profile's environment."""

from __future__ import annotations

import dataclasses

from cxpipe.settings import REPO_ROOT, Settings, load_settings


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


def profile_env(profile: str) -> dict[str, str]:
    """``deploy/profiles/<profile>/cxpipe.env`` as variables, the contract overrides' path made absolute."""
    env: dict[str, str] = {}
    for line in (REPO_ROOT / "deploy" / "profiles" / profile / "cxpipe.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    env["CX_CONTRACT_OVERRIDES"] = str(REPO_ROOT / env["CX_CONTRACT_OVERRIDES"])
    return env
