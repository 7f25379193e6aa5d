import copy
import dataclasses
import pickle
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cxpipe.settings import (
    DEMO_PII_KEY,
    NOT_SETTINGS,
    REPO_ROOT,
    AlertSettings,
    GateSettings,
    IngestSettings,
    PublishSettings,
    ScheduleSettings,
    Settings,
    SettingsError,
    describe_settings,
    load_settings,
    render_settings_table,
    unknown_variables,
)

README = REPO_ROOT / "README.md"
BEGIN, END = "<!-- settings:begin -->\n", "<!-- settings:end -->"


def _error(environ: dict[str, str]) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    return caught.value


# ------------------------------------------------------------------ defaults and compatibility


def test_defaults_are_todays_defaults() -> None:
    settings = load_settings({})
    assert settings.project_dir == REPO_ROOT
    assert settings.data_dir == REPO_ROOT / "data"
    assert settings.dbt_project_dir == REPO_ROOT / "dbt_project"
    assert settings.gx_dir == REPO_ROOT / "expectations"
    assert settings.pii_key == DEMO_PII_KEY
    assert settings.reporting_db == REPO_ROOT / "data" / "warehouse" / "reporting.duckdb"
    schedule = settings.schedule
    assert (schedule.start_date, schedule.end_date, schedule.catchup) == (date(2026, 11, 1), None, True)
    assert (schedule.landing_wait_hours, schedule.task_retries) == (6, 2)
    assert (schedule.retry_delay_seconds, schedule.task_timeout_minutes) == (60, 60)
    assert schedule.start_datetime == datetime(2026, 11, 1, tzinfo=UTC) and schedule.end_datetime is None
    assert (schedule.landing_wait, schedule.retry_delay, schedule.task_timeout) == (
        timedelta(hours=6),
        timedelta(seconds=60),
        timedelta(minutes=60),
    )
    assert settings.ingest.missing_file_policy_for("sales") == "fail"
    assert settings.ingest.encoding_for("surveys", "responses") is None
    assert (settings.gate.drift_pct, settings.gate.as_of, settings.gate.dbt_artifacts_dir) == (50.0, None, None)
    assert (settings.publish.keep_publications, settings.publish.code_version) == (3, None)
    assert (settings.publish.reporting_postgres_url, settings.publish.bi_password) == (None, None)
    assert settings.alerts.webhook_url is None
    # the defaults of the environment are the defaults of the classes (tests build Settings directly)
    assert (settings.schedule, settings.ingest, settings.gate, settings.publish, settings.alerts) == (
        ScheduleSettings(),
        IngestSettings(),
        GateSettings(),
        PublishSettings(),
        AlertSettings(),
    )


def test_blank_variables_count_as_unset() -> None:
    blank = {"CX_DATA_DIR": "", "CX_PII_KEY": "", "CX_START_DATE": " ", "CX_ALERT_WEBHOOK_URL": "", "CX_CATCHUP": ""}
    assert load_settings(blank) == load_settings({})


def test_pii_key_is_kept_verbatim() -> None:
    assert load_settings({"CX_PII_KEY": " key with blanks "}).pii_key == " key with blanks "


def test_constructible_like_config_settings_frozen_and_replaceable(tmp_path: Path) -> None:
    settings = Settings(
        project_dir=REPO_ROOT,
        data_dir=tmp_path / "data",
        dbt_project_dir=REPO_ROOT / "dbt_project",
        gx_dir=tmp_path / "expectations",
        pii_key="test-key",
    )
    assert settings.gate == GateSettings() and settings.schedule == ScheduleSettings()
    assert settings.dbt_env() == {
        "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
        "CX_DATA_DIR": str(tmp_path / "data"),
        "CX_LAKE_DIR": str(tmp_path / "data" / "lake"),
        "CX_BUILD_DB": str(tmp_path / "data" / "warehouse" / "cx.duckdb"),
        "CX_REPORTING_DB": str(tmp_path / "data" / "warehouse" / "reporting.duckdb"),
        "CX_REPORTING_CURRENCY": "EUR",
        "CX_MODEL_CACHE_DIR": str(tmp_path / "data" / "warehouse" / "models"),
        "CX_SOURCES": "sales,crm,surveys,social",
        "CX_DUCKDB_MEMORY_LIMIT": "2.5GB",
        "CX_COMPLAINT_BATCH_TEXTS": "50000",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.data_dir = tmp_path  # type: ignore[misc]
    changed = dataclasses.replace(settings, gate=dataclasses.replace(settings.gate, drift_pct=10))
    assert changed.gate.drift_pct == 10 and settings.gate.drift_pct == 50
    assert hash(changed) != hash(settings)
    with pytest.raises(TypeError):
        settings.ingest.encodings["sales"] = "gbk"  # type: ignore[index]


def test_settings_survive_copy_and_pickle() -> None:
    settings = load_settings({"CX_ENCODING_SALES": "gbk", "CX_MISSING_FILE_POLICY_CRM": "skip"})
    for copied in (copy.deepcopy(settings), pickle.loads(pickle.dumps(settings))):
        assert copied == settings and hash(copied) == hash(settings)
        assert copied.ingest.encoding_for("sales", "orders") == "gbk"


def test_secrets_stay_out_of_repr() -> None:
    settings = load_settings(
        {
            "CX_PII_KEY": "pii-secret",
            "CX_BI_PASSWORD": "bi-secret",
            "CX_REPORTING_POSTGRES_URL": "postgresql://loader:pg-secret@db:5432/cx",
            "CX_ALERT_WEBHOOK_URL": "https://hooks.example.com/services/hook-secret",
        }
    )
    shown = repr(settings) + "\n".join(f"{k}={v}" for k, v in describe_settings(settings))
    for secret in ("pii-secret", "bi-secret", "pg-secret", "hook-secret"):
        assert secret not in shown
    values = dict(describe_settings(settings))
    assert values["CX_REPORTING_POSTGRES_URL"] == "postgresql://loader:***@db:5432/cx"
    assert values["CX_ALERT_WEBHOOK_URL"] == "https://hooks.example.com/***"


# ------------------------------------------------------------------ each group parsed


def test_schedule_is_parsed() -> None:
    schedule = load_settings(
        {
            "CX_START_DATE": "2026-01-15",
            "CX_END_DATE": "2026-01-17",
            "CX_CATCHUP": "No",
            "CX_LANDING_WAIT_HOURS": "12",
            "CX_TASK_RETRIES": "0",
            "CX_RETRY_DELAY_SECONDS": "30",
            "CX_TASK_TIMEOUT_MINUTES": " 90 ",
        }
    ).schedule
    assert schedule == ScheduleSettings(date(2026, 1, 15), date(2026, 1, 17), False, 12, 0, 30, 90)
    assert schedule.end_datetime == datetime(2026, 1, 17, tzinfo=UTC)
    assert load_settings({"CX_START_DATE": "2026-01-15", "CX_END_DATE": "2026-01-15"}).schedule.end_date


@pytest.mark.parametrize(("text", "value"), [("true", True), ("1", True), ("YES", True), ("0", False), ("no", False)])
def test_catchup_booleans(text: str, value: bool) -> None:
    assert load_settings({"CX_CATCHUP": text}).schedule.catchup is value


def test_ingest_policy_and_encodings_per_source_and_entity() -> None:
    ingest = load_settings(
        {
            "CX_MISSING_FILE_POLICY": "skip",
            "CX_MISSING_FILE_POLICY_SOCIAL": "Wait",
            "CX_ENCODING_SURVEYS": "cp1251",
            "CX_ENCODING_SURVEYS_RESPONSES": "gbk",
            "CX_ENCODING_SALES_ORDER_LINES": "latin-1",
        }
    ).ingest
    assert ingest.missing_file_policy_for("social") == "wait"
    assert ingest.missing_file_policy_for("crm") == "skip"
    assert ingest.encoding_for("surveys", "responses") == "gbk"  # the entity's own wins over its source's
    assert ingest.encoding_for("surveys", "other") == "cp1251"
    assert ingest.encoding_for("sales", "order_lines") == "latin-1"
    assert ingest.encoding_for("sales", "orders") is None
    assert dict(ingest.encodings) == {"surveys": "cp1251", "surveys.responses": "gbk", "sales.order_lines": "latin-1"}


def test_an_encoding_setting_may_name_the_candidates_detection_chooses_among() -> None:
    ingest = load_settings({"CX_ENCODING_SALES": "utf-8, cp1250", "CX_ENCODING_CRM": "gbk"}).ingest
    assert ingest.encoding_for("sales", "orders") == ("utf-8", "cp1250")
    assert ingest.encoding_for("crm", "customers") == "gbk"
    with pytest.raises(SettingsError, match="CX_ENCODING_SALES='utf-8,klingon' is not an encoding Python knows"):
        load_settings({"CX_ENCODING_SALES": "utf-8,klingon"})
    with pytest.raises(SettingsError, match="CX_ENCODING_SALES=',' names no encoding"):
        load_settings({"CX_ENCODING_SALES": " , "})


def test_gate_publish_and_alerts_are_parsed(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "CX_GATE_DRIFT_PCT": "12.5",
            "CX_GATE_AS_OF": "2027-06-01",
            "CX_DBT_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
            "CX_KEEP_PUBLICATIONS": "0",
            "CX_CODE_VERSION": "v9",
            "CX_REPORTING_POSTGRES_URL": "postgresql://cx_publisher:pw@postgres:5432/cx_reporting",
            "CX_BI_PASSWORD": "b",
            "CX_ALERT_WEBHOOK_URL": "http://127.0.0.1:8080/hook",
        }
    )
    assert settings.gate == GateSettings(12.5, date(2027, 6, 1), tmp_path / "artifacts")
    assert settings.publish == PublishSettings(0, "v9", "postgresql://cx_publisher:pw@postgres:5432/cx_reporting", "b")
    assert settings.alerts.webhook_url == "http://127.0.0.1:8080/hook"


# ------------------------------------------------------------------ bad values


BAD_VALUES = [
    # variable, value given, start of the message after "<variable>="
    ("CX_GATE_DRIFT_PCT", "nan", "'nan' is not a finite number; expected a number of percent > 0 and ≤ 1000"),
    ("CX_GATE_DRIFT_PCT", "inf", "'inf' is not a finite number"),
    ("CX_GATE_DRIFT_PCT", "lots", "'lots' is not a number"),
    ("CX_GATE_DRIFT_PCT", "0", "'0' is out of range; expected a number of percent > 0 and ≤ 1000"),
    ("CX_GATE_DRIFT_PCT", "-5", "'-5' is out of range"),
    ("CX_KEEP_PUBLICATIONS", "three", "'three' is not a whole number; expected a whole number ≥ 0"),
    ("CX_KEEP_PUBLICATIONS", "2.5", "'2.5' is not a whole number"),
    ("CX_TASK_RETRIES", "-1", "'-1' is less than 0"),
    ("CX_LANDING_WAIT_HOURS", "0", "'0' is less than 1"),
    ("CX_TASK_TIMEOUT_MINUTES", "1h", "'1h' is not a whole number"),
    ("CX_CATCHUP", "maybe", "'maybe' is not true or false; expected true/false, 1/0 or yes/no"),
    ("CX_START_DATE", "2026-13-01", "'2026-13-01' is not a valid date"),
    ("CX_START_DATE", "01/11/2026", "'01/11/2026' is not an ISO date; expected an ISO date YYYY-MM-DD"),
    ("CX_GATE_AS_OF", "tomorrow", "'tomorrow' is not an ISO date"),
    ("CX_MISSING_FILE_POLICY", "later", "'later' is not a missing-file policy; expected one of wait, skip, fail"),
    ("CX_MISSING_FILE_POLICY_CRM", "later", "'later' is not a missing-file policy"),
    ("CX_ENCODING_SURVEYS_RESPONSES", "klingon", "'klingon' is not an encoding Python knows"),
    ("CX_ENCODING_SURVEYS", "utf-9", "'utf-9' is not an encoding Python knows"),
    (
        "CX_ALERT_WEBHOOK_URL",
        "ftp://alerts.example.com/secret",
        "'ftp://alerts.example.com/***' has scheme ftp:; expected an http:// or https:// URL",
    ),
    ("CX_ALERT_WEBHOOK_URL", "hooks.example.com/services/secret", "'hooks.example.com/***' has no scheme"),
    ("CX_ALERT_WEBHOOK_URL", "https:///secret", "'https:///***' has no host"),
    ("CX_ALERT_WEBHOOK_URL", "https://example.com:port/secret", "'https://example.com:port/***' is not a URL"),
    (
        "CX_REPORTING_POSTGRES_URL",
        "mysql://u:secret@db/cx",
        "'mysql://u:***@db/cx' has scheme mysql:; expected a postgresql:// URL",
    ),
    ("CX_REPORTING_POSTGRES_URL", "host=db password=secret", "'host=db password=***' has no scheme"),
    ("CX_DUCKDB_MEMORY_LIMIT", "lots", "'lots' is not a memory size such as 3GB, 1.5GiB or 50%"),
    ("CX_DUCKDB_MEMORY_LIMIT", "3 parsecs", "'3 parsecs' is not a memory size"),
    ("CX_COMPLAINT_BATCH_TEXTS", "0", "'0' is less than 1"),
    ("CX_COMPLAINT_BATCH_TEXTS", "1.5", "'1.5' is not a whole number"),
]


@pytest.mark.parametrize(("variable", "value", "message"), BAD_VALUES)
def test_bad_value_is_refused_naming_variable_value_and_what_it_accepts(
    variable: str, value: str, message: str
) -> None:
    error = _error({variable: value})
    assert isinstance(error, ValueError)
    assert str(error).startswith(f"{variable}={message}"), str(error)
    assert [p.variable for p in error.problems] == [variable]
    assert "secret" not in str(error)


def test_end_before_start_is_refused() -> None:
    error = _error({"CX_START_DATE": "2026-11-05", "CX_END_DATE": "2026-11-01"})
    assert str(error) == (
        "CX_END_DATE='2026-11-01' is before CX_START_DATE=2026-11-05; "
        "expected a date on or after CX_START_DATE, or unset"
    )
    assert "is before CX_START_DATE=2026-11-01" in str(_error({"CX_END_DATE": "2026-10-31"}))  # the default start
    # a bad start is reported once, not also as an end before it
    assert [p.variable for p in _error({"CX_START_DATE": "x", "CX_END_DATE": "2026-01-01"}).problems] == [
        "CX_START_DATE"
    ]


def test_per_source_variables_for_unknown_sources_are_refused() -> None:
    error = _error({"CX_MISSING_FILE_POLICY_BILLING": "skip", "CX_ENCODING_SURVEY": "gbk"})
    assert [p.variable for p in error.problems] == ["CX_MISSING_FILE_POLICY_BILLING", "CX_ENCODING_SURVEY"]
    assert "CX_MISSING_FILE_POLICY_BILLING='skip' names no known source; expected a variable named one of" in str(error)
    assert "CX_ENCODING_SURVEYS_RESPONSES" in str(error)  # the names it could have meant


def test_every_bad_variable_is_reported_at_once() -> None:
    error = _error(
        {
            "CX_GATE_DRIFT_PCT": "nan",
            "CX_KEEP_PUBLICATIONS": "three",
            "CX_CATCHUP": "maybe",
            "CX_START_DATE": "2026-13-01",
            "CX_MISSING_FILE_POLICY_SOCIAL": "later",
            "CX_ENCODING_CRM": "klingon",
            "CX_ALERT_WEBHOOK_URL": "mailto:ops@example.com",
            "CX_TASK_RETRIES": "2",  # a good one among them
        }
    )
    names = [
        "CX_START_DATE",
        "CX_CATCHUP",
        "CX_MISSING_FILE_POLICY_SOCIAL",
        "CX_ENCODING_CRM",
        "CX_GATE_DRIFT_PCT",
        "CX_KEEP_PUBLICATIONS",
        "CX_ALERT_WEBHOOK_URL",
    ]
    assert [p.variable for p in error.problems] == names  # in the order of the configuration table
    lines = str(error).splitlines()
    assert lines[0].startswith("7 invalid settings")
    assert [line.split("=", 1)[0].strip(" -") for line in lines[1:]] == names


def test_direct_construction_is_validated_the_same_way(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"CX_GATE_DRIFT_PCT='nan' is not a finite number"):
        GateSettings(drift_pct=float("nan"))
    with pytest.raises(SettingsError, match=r"CX_KEEP_PUBLICATIONS='-1' is less than 0"):
        dataclasses.replace(PublishSettings(), keep_publications=-1)
    with pytest.raises(SettingsError, match=r"CX_END_DATE='2026-01-01' is before CX_START_DATE=2026-11-01"):
        ScheduleSettings(end_date=date(2026, 1, 1))
    with pytest.raises(SettingsError, match=r"CX_MISSING_FILE_POLICY_BILLING=.*names no known source"):
        IngestSettings(missing_file_policies={"billing": "skip"})
    with pytest.raises(SettingsError, match=r"CX_ENCODING_SALES_ORDERS='klingon'"):
        IngestSettings(encodings={"sales.orders": "klingon"})
    with pytest.raises(SettingsError, match=r"CX_PII_KEY='\*\*\*' is not non-empty text"):
        Settings(project_dir=tmp_path, data_dir=tmp_path, dbt_project_dir=tmp_path, gx_dir=tmp_path, pii_key="")


# ------------------------------------------------------------------ documentation and CLI


def test_readme_configuration_table_matches_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1, f"README.md needs one {BEGIN.strip()} … {END} block"
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    assert block == render_settings_table(), (
        "README.md's configuration table is stale: replace the block between the settings markers "
        "with the output of `uv run cxpipe settings --format markdown`"
    )


def test_table_documents_every_variable_the_code_reads() -> None:
    table = render_settings_table()
    documented = set(re.findall(r"^\| `(CX_[A-Z_]+)", table, flags=re.MULTILINE))
    assert {"CX_DBT_ARTIFACTS_DIR", "CX_GATE_AS_OF", "CX_LAKE_DIR", "CX_BUILD_DB"} <= documented
    # every CX_* name in the package source is a setting, a per-source variable or a known non-setting
    for path in (REPO_ROOT / "plugins" / "cxpipe").rglob("*.py"):
        for name in re.findall(r"\bCX_[A-Z][A-Z0-9_]*", path.read_text(encoding="utf-8")):
            if name.startswith(("CX_ENCODING_", "CX_MISSING_FILE_POLICY_")) or name in NOT_SETTINGS:
                continue
            assert name in documented, f"{path.name} reads {name}, which no setting covers"


def test_only_the_settings_module_reads_the_environment() -> None:
    """Every other module gets its configuration from the parsed settings object."""
    readers = {
        str(path.relative_to(REPO_ROOT))
        for path in [*(REPO_ROOT / "plugins" / "cxpipe").rglob("*.py"), *(REPO_ROOT / "dags").glob("*.py")]
        if re.search(r"os\.environ\b|getenv\(", path.read_text(encoding="utf-8"))
    }
    allowed = {
        "plugins/cxpipe/settings.py",  # parses every CX_* variable
        "plugins/cxpipe/runner.py",  # passes the environment on to the Airflow processes it starts
        "plugins/cxpipe/cli.py",  # AIRFLOW_HOME, Airflow's own variable
        "plugins/cxpipe/gate/gx.py",  # turns GX's usage statistics off before GX is imported
        "plugins/cxpipe/ingest/load.py",  # leaves Arrow's memory pool alone when ARROW_DEFAULT_MEMORY_POOL chooses it
        "plugins/cxpipe/semantic_layer.py",  # passes the environment on to dbt and MetricFlow (mf)
        "plugins/cxpipe/warehouse/contract_state.py",  # passes the environment on to dbt
        # passes the environment on to dbt (in-process) and names the interpreter of Spark's Python workers
        "plugins/cxpipe/warehouse/spark.py",
    }
    assert readers <= allowed, readers - allowed


def test_unknown_cx_variables_are_listed() -> None:
    environ = {"CX_GATE_DRIFT_PERCENT": "10", "CX_DATA_DIR": "/d", "CX_BUILD_DB": ":memory:", "HOME": "/root"}
    assert unknown_variables(environ) == ["CX_GATE_DRIFT_PERCENT"]


def test_cli_settings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cxpipe.cli import main

    assert main(["settings", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == render_settings_table()

    monkeypatch.setenv("CX_GATE_DRIFT_PCT", "nan")
    monkeypatch.setenv("CX_CATCHUP", "maybe")
    assert main(["settings", "--check"]) == 1
    err = capsys.readouterr().err
    assert "2 invalid settings" in err and "CX_GATE_DRIFT_PCT='nan'" in err and "CX_CATCHUP='maybe'" in err

    monkeypatch.setenv("CX_GATE_DRIFT_PCT", "20")
    monkeypatch.setenv("CX_CATCHUP", "false")
    monkeypatch.setenv("CX_PII_KEY", "pii-secret")
    assert main(["settings", "--check"]) == 0
    assert capsys.readouterr().out == "settings OK\n"
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^CX_GATE_DRIFT_PCT +20$", out, flags=re.MULTILINE)
    assert re.search(r"^CX_CATCHUP +false$", out, flags=re.MULTILINE)
    assert "pii-secret" not in out


def test_defaults_point_inside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CX_PROJECT_DIR", "CX_DATA_DIR", "CX_DBT_PROJECT_DIR", "CX_GX_DIR", "CX_PII_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.project_dir == REPO_ROOT
    assert settings.reporting_db == REPO_ROOT / "data" / "warehouse" / "reporting.duckdb"
    assert settings.dbt_project_dir == REPO_ROOT / "dbt_project"
    assert (settings.dbt_project_dir / "dbt_project.yml").exists()
    assert settings.pii_key == DEMO_PII_KEY


def test_environment_overrides_paths_and_resolves_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CX_DATA_DIR", "relative/data")
    monkeypatch.setenv("CX_PII_KEY", "k")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "relative" / "data"
    assert settings.lake_dir.is_absolute()
    assert settings.pii_key == "k"
    assert settings.dbt_env()["CX_LAKE_DIR"] == str(tmp_path / "relative" / "data" / "lake")


def test_reporting_currency_is_an_iso_code_and_reaches_dbt() -> None:
    settings = load_settings({"CX_REPORTING_CURRENCY": "brl"})
    assert settings.publish.reporting_currency == "BRL"
    assert settings.dbt_env()["CX_REPORTING_CURRENCY"] == "BRL"
    assert load_settings({}).dbt_env()["CX_REPORTING_CURRENCY"] == "EUR"
    with pytest.raises(SettingsError, match="CX_REPORTING_CURRENCY='XXY' is not an ISO 4217 currency code"):
        load_settings({"CX_REPORTING_CURRENCY": "XXY"})


def test_duckdb_memory_limit_reaches_dbt() -> None:
    assert load_settings({}).dbt_env()["CX_DUCKDB_MEMORY_LIMIT"] == "2.5GB"
    assert load_settings({"CX_DUCKDB_MEMORY_LIMIT": "3GB"}).dbt_env()["CX_DUCKDB_MEMORY_LIMIT"] == "3GB"
    assert load_settings({"CX_DUCKDB_MEMORY_LIMIT": "1.5GiB"}).engine.duckdb_memory_limit == "1.5GiB"


def test_dbt_profile_falls_back_to_the_same_duckdb_memory_limit() -> None:
    """dbt run by hand (without cxpipe's environment) holds DuckDB to the setting's default too."""
    profile = (REPO_ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    fallbacks = re.findall(r"env_var\('CX_DUCKDB_MEMORY_LIMIT', '([^']*)'\)", profile)
    assert fallbacks == [load_settings({}).engine.duckdb_memory_limit]


def test_complaint_batch_size_reaches_dbt() -> None:
    assert load_settings({}).dbt_env()["CX_COMPLAINT_BATCH_TEXTS"] == "50000"
    assert load_settings({"CX_COMPLAINT_BATCH_TEXTS": "200"}).dbt_env()["CX_COMPLAINT_BATCH_TEXTS"] == "200"


def test_sources_are_a_validated_subset_in_the_contracts_order() -> None:
    assert load_settings({}).ingest.sources == ("sales", "crm", "surveys", "social")
    assert load_settings({"CX_SOURCES": " Surveys, sales ,"}).ingest.sources == ("sales", "surveys")
    current = load_settings({"CX_SOURCES": "crm"})
    assert current.dbt_env()["CX_SOURCES"] == "crm"
    assert ("CX_SOURCES", "crm") in describe_settings(current)
    with pytest.raises(SettingsError, match=r"CX_SOURCES='sales,tickets' names no known source \(tickets\)"):
        load_settings({"CX_SOURCES": "sales,tickets"})
    with pytest.raises(SettingsError, match=r"CX_SOURCES=',' names no source"):
        load_settings({"CX_SOURCES": ","})


# ------------------------------------------------------------------ the PII key outside demo mode


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (None, "CX_PII_KEY is not set"),
        ("change-me", "CX_PII_KEY holds a placeholder"),
        ("short-key", "CX_PII_KEY is shorter than 16 characters"),
    ],
)
def test_outside_demo_mode_a_missing_placeholder_or_short_pii_key_is_refused(key: str | None, problem: str) -> None:
    from cxpipe.settings import PiiKeyError

    environ = {"CX_DEMO_MODE": "false"} | ({"CX_PII_KEY": key} if key else {})
    with pytest.raises(PiiKeyError) as refused:
        load_settings(environ).pseudonymisation_key()
    assert str(refused.value).startswith(problem) and "CX_DEMO_MODE=true" in str(refused.value)
    if key:
        assert key not in str(refused.value).removeprefix(problem)  # the value itself is not repeated
    # demo mode accepts the demo key (and any other)
    assert load_settings({**environ, "CX_DEMO_MODE": "true"}).pseudonymisation_key() == (key or DEMO_PII_KEY)


def test_a_real_key_is_used_as_given() -> None:
    key = "s3cret-" + "x" * 20
    assert load_settings({"CX_PII_KEY": key}).pseudonymisation_key() == key


def test_cxpipe_settings_check_fails_without_a_real_key_outside_demo_mode(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cxpipe.cli import main

    monkeypatch.delenv("CX_PII_KEY", raising=False)
    monkeypatch.setenv("CX_DEMO_MODE", "false")
    assert main(["settings", "--check"]) == 1
    assert "error: CX_PII_KEY is not set" in capsys.readouterr().err
    monkeypatch.setenv("CX_DEMO_MODE", "true")
    assert main(["settings", "--check"]) == 0
