"""Demo profiles (``cxpipe demo --profile``): shaped unlike the default retailer, onboarded by data alone.

Each profile's configuration is data in ``deploy/profiles/<profile>/`` and its values are rows of
the mapping seeds: no code path outside the demo generator knows a profile's name.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from configured import profile_env
from conftest import settings_for

from cxpipe.contracts import ENTITIES
from cxpipe.demo import DemoSpec
from cxpipe.demo.profiles import DEFAULT_PROFILE, PROFILES, generate_profile
from cxpipe.ingest import ingest_source
from cxpipe.ingest.contract import load_contract
from cxpipe.settings import REPO_ROOT, load_settings

SPEC = DemoSpec(start=date(2026, 11, 1), days=2, history_days=20, customers=60, orders_per_day=10)
SEEDS = REPO_ROOT / "dbt_project" / "seeds"
#: Columns each profile's values must be mapped for: column -> (mapping seed, its source column).
MAPPED = {
    ("sales", "orders", "status"): ("order_status_map", "source_status"),
    ("sales", "orders", "channel"): ("sales_channel_map", "source_channel"),
    ("sales", "order_lines", "category"): ("category_map", "source_category"),
    ("surveys", "responses", "channel"): ("sales_channel_map", "source_channel"),
    ("crm", "tickets", "channel"): ("ticket_channel_map", "source_channel"),
}


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def _mapping_key(value: str) -> str:
    """As the dbt macro ``mapping_key``: case, blanks at either end and separators do not matter."""
    return re.sub(r"[\s_-]+", " ", value.strip().lower())


def _rows(path: Path) -> list[dict[str, object]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_no_code_outside_the_demo_generator_names_a_profile() -> None:
    """Onboarding is configuration and mapping seeds: plugins, DAGs and models know no profile."""
    names = [*PROFILES, *(name.replace("_", " ") for name in PROFILES), *(name.replace("_", "-") for name in PROFILES)]
    pattern = re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE)
    demo = REPO_ROOT / "plugins" / "cxpipe" / "demo"
    offenders = []
    for folder in ("plugins", "dags", "dbt_project/models", "dbt_project/macros"):
        for path in (REPO_ROOT / folder).rglob("*"):
            if not path.is_file() or path.suffix not in (".py", ".sql", ".yml", ".yaml", ".md", ".cfg", ".txt"):
                continue
            if path.is_relative_to(demo):
                continue
            offenders += [f"{path.relative_to(REPO_ROOT)}: {m.group(0)}" for m in pattern.finditer(path.read_text())]
    assert offenders == []


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_profile_is_deterministic_by_seed(profile: str, tmp_path: Path) -> None:
    generate_profile(profile, tmp_path / "a", SPEC)
    generate_profile(profile, tmp_path / "b", SPEC)
    generate_profile(profile, tmp_path / "c", DemoSpec(**{**SPEC.__dict__, "seed": 7}))
    first = _tree_digest(tmp_path / "a")
    assert first and first == _tree_digest(tmp_path / "b")
    assert first != _tree_digest(tmp_path / "c")


def test_an_unknown_profile_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"{DEFAULT_PROFILE}, marketplace, service_desk"):
        generate_profile("bakery", tmp_path, SPEC)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_profile_writes_only_its_sources_in_the_contract_shape(
    profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = profile_env(profile)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sources = env["CX_SOURCES"].split(",")
    contract = load_contract(load_settings())
    counts = generate_profile(profile, tmp_path, SPEC)
    assert {key.split("/")[0] for key in counts} == set(sources)
    for entity in ENTITIES:
        files = sorted(tmp_path.glob(f"{entity.source}/*/{entity.file_name}"))
        written = f"{entity.source}/{entity.name}" in counts
        assert len(files) == (SPEC.days if written else 0), entity.name
        # what a profile does not export, its contract lets it leave out (or its CX_SOURCES)
        assert written or entity.source not in sources or contract.entity(entity.source, entity.name).optional
        for path in files:
            if entity.file_format == "csv":
                assert path.read_text(encoding="utf-8").splitlines()[0].split(",") == list(entity.column_names)
            else:
                assert all(list(row) == list(entity.column_names) for row in _rows(path))


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_value_a_profile_exports_has_a_row_in_its_mapping_seed(profile: str, tmp_path: Path) -> None:
    generate_profile(profile, tmp_path, SPEC)
    checked = 0
    for (source, entity, column), (seed, key) in MAPPED.items():
        values = {
            str(row[column])
            for path in tmp_path.glob(f"{source}/*/{entity}.*")
            for row in _rows(path)
            if row.get(column)
        }
        mapped = {_mapping_key(str(row[key])) for row in _rows(SEEDS / f"{seed}.csv")}
        assert {v for v in values if _mapping_key(v) not in mapped} == set(), (seed, column)
        checked += len(values)
    assert checked > 5


def test_the_exchange_rates_seed_covers_the_marketplace_currency_in_euro() -> None:
    """The marketplace reports in BRL (rate 1); a deployment reporting it in EUR needs BRL rows."""
    rates = pd.read_csv(SEEDS / "exchange_rates.csv", parse_dates=["rate_date"])
    brl = rates[(rates.currency == "BRL") & (rates.reporting_currency == "EUR")]
    first = pd.Timestamp(SPEC.start - pd.Timedelta(days=365))
    assert brl.rate_date.min() <= first and brl.rate_date.max() >= pd.Timestamp(SPEC.start)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_profile_ingests_with_its_configuration_alone(
    profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every value is known to its contract, every timestamp read; only exact duplicates quarantined."""
    env = profile_env(profile)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    root = settings_for(tmp_path)
    monkeypatch.setenv("CX_DATA_DIR", str(root.data_dir))
    settings = load_settings()
    generate_profile(profile, settings.landing_dir, SPEC)
    for source in env["CX_SOURCES"].split(","):
        for result in ingest_source(settings, source, SPEC.start):
            assert result.unknown_values == {}, result
            assert result.rows_quarantined == result.rows_duplicate, result
            assert result.status in ("loaded", "empty")


def test_marketplace_local_times_land_in_utc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Naive São Paulo times (UTC-3, no daylight saving since 2019), ISO-like or day-first, land in UTC."""
    for name, value in profile_env("marketplace").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CX_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    generate_profile("marketplace", settings.landing_dir, SPEC)
    ingest_source(settings, "sales", SPEC.start)
    landed = pd.read_csv(settings.landing_dir / "sales" / SPEC.start.isoformat() / "orders.csv", dtype=str)
    lake = pd.read_parquet(settings.lake_dir / "sales" / "orders" / f"load_date={SPEC.start}" / "part-0.parquet")
    both = landed.drop_duplicates("order_id").merge(lake[["order_id", "ordered_at"]], on="order_id")
    day_first = both.ordered_at_x.str.contains("/")
    assert day_first.any() and (~day_first).any()
    local = pd.concat(
        [
            pd.to_datetime(both.ordered_at_x[~day_first], format="%Y-%m-%d %H:%M:%S"),
            pd.to_datetime(both.ordered_at_x[day_first], format="%d/%m/%Y %H:%M"),
        ]
    ).sort_index()
    expected = local.dt.tz_localize("America/Sao_Paulo").dt.tz_convert("UTC")
    assert (pd.to_datetime(both.ordered_at_y, utc=True) == expected).all()
    assert (expected - local.dt.tz_localize("UTC") == pd.Timedelta(hours=3)).all()
