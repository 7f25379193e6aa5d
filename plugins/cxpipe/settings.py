"""cxpipe's configuration: every ``CX_*`` environment variable, parsed and validated once.

:func:`load_settings` reads the environment (an empty variable is unset) into one immutable
:class:`Settings`: the paths, the PII key and a group per concern, each a frozen pydantic
dataclass. pydantic parses and checks every value; :class:`SettingsError` names *every* bad
variable, the value given and what it accepts. Each field's ``Annotated`` metadata names its
variable (:class:`_Env`) and its docstring says what it means, so :func:`render_settings_table`
generates the README's configuration table. Paths are absolute (dbt and Airflow tasks run from
other folders). Derive changed copies with :func:`dataclasses.replace` (validated again), e.g.
``replace(settings, gate=replace(settings.gate, drift_pct=10))``.
"""

import codecs
import functools
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

import pydantic.dataclasses
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, FiniteFloat, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError
from typing_extensions import dataclass_transform

from cxpipe.contracts import ENTITIES, SOURCES, standard_codes

#: The repository root when cxpipe runs from a checkout (the usual case).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Demo key for pseudonymising PII; production sets CX_PII_KEY from a secret store.
DEMO_PII_KEY = "cxpipe-demo-key-not-secret"
#: The shortest CX_PII_KEY accepted outside demo mode.
MIN_PII_KEY_LENGTH = 16
#: Values that are placeholders, not keys.
_PLACEHOLDER_KEYS = frozenset({DEMO_PII_KEY, "change-me", "changeme", "secret", "password"})


class PiiKeyError(RuntimeError):
    """Pseudonymising real data needs a key of the deployment's own; the message says what to set."""


#: First logical date the ingest DAGs schedule unless CX_START_DATE says otherwise.
DEFAULT_START_DATE = date(2026, 11, 1)

#: The encodings a landing file may be detected in when its source declares none (``CX_ENCODING_…``).
DEFAULT_ENCODINGS: tuple[str, ...] = ("utf-8", "gb18030", "cp1251", "cp1252")

_Policy = Literal["wait", "skip", "fail"]

#: What a source may do when one of its files is missing for a date.
MISSING_FILE_POLICIES: tuple[str, ...] = get_args(_Policy)
_DbtTaskMode = Literal["node", "build"]
DBT_TASK_MODES: tuple[str, ...] = get_args(_DbtTaskMode)
_EngineName = Literal["duckdb", "spark"]
#: The dbt profile and target of the DuckDB build. The transform DAG's Cosmos tasks name them on dbt's
#: command line, and so does the ``dbt parse`` of ``cxpipe run``: dbt keeps the profile and target given
#: there in its partial-parse state and parses the whole project again when they differ, so the first
#: dbt task starts from that parse only when both name the same ones.
DBT_PROFILE = "cxpipe"
DBT_TARGET = "duckdb"
#: The engines a dbt build runs on (docs/spark.md).
ENGINES: tuple[str, ...] = get_args(_EngineName)
_CatalogName = Literal["in-memory", "hive"]
SPARK_CATALOGS: tuple[str, ...] = get_args(_CatalogName)

#: ``CX_*`` variables that exist but are not cxpipe settings: exported by cxpipe for dbt,
#: read by dbt's profile only, or used by docker-compose / the deployment scripts only.
NOT_SETTINGS = frozenset(
    {
        "CX_LAKE_DIR",
        "CX_BUILD_DB",
        "CX_REPORTING_DB",
        "CX_DBT_TARGET",
        "CX_LANDING_HOST_DIR",
        "CX_PUBLISHER_PASSWORD",
        # dbt's `spark` output (profiles.yml): a Thrift server instead of the in-process session (docs/spark.md)
        "CX_SPARK_METHOD",
        "CX_SPARK_HOST",
        "CX_SPARK_PORT",
        "CX_SPARK_SCHEMA",
    }
)

#: Text kept verbatim (keys and passwords may begin or end with blanks); other values are stripped.
_VERBATIM = frozenset({"CX_PII_KEY", "CX_CODE_VERSION", "CX_BI_PASSWORD"})

#: Families of per-source variables: their prefix and the keys they may name (``source`` or ``source.entity``).
_PER: dict[str, tuple[str, tuple[str, ...]]] = {
    "source": ("CX_MISSING_FILE_POLICY_", SOURCES),
    "source-entity": ("CX_ENCODING_", (*SOURCES, *(f"{e.source}.{e.name}" for e in ENTITIES))),
}


def _per_var(per: str, key: str) -> str:
    """The variable of ``key`` in a per-source family, e.g. ``CX_ENCODING_SALES_ORDERS`` for ``sales.orders``."""
    return _PER[per][0] + key.upper().replace(".", "_")


# ------------------------------------------------------------------ metadata and errors


@dataclass(frozen=True)
class _Env:
    """A setting's variable and what it accepts (``Annotated`` metadata; its meaning is the field's docstring).

    ``shown``: the default as the table shows it (empty: the field's own); ``secret``: ``full``, or the part of a
    URL to mask (``password``, ``path``); ``per``: ``source`` or ``source-entity`` for a family of variables (_PER).
    """

    name: str
    accepts: str
    shown: str = ""
    secret: str = ""
    per: str = ""


@dataclass(frozen=True)
class Problem:
    """One bad setting: the variable, the value given (secrets masked), why, and what it accepts."""

    variable: str
    value: str
    reason: str
    accepts: str

    def __str__(self) -> str:
        return f"{self.variable}={self.value!r} {self.reason}; expected {self.accepts}"


class SettingsError(ValueError):
    """One or more settings are invalid; :attr:`problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        many = f"{len(problems)} invalid settings (see README, 'Configuration'):\n{lines}"
        super().__init__(str(problems[0]) if len(problems) == 1 else many)


#: pydantic's error types in the words of the configuration table (``{…}``: the error's context).
_REASONS = {
    "int_type": "is not a whole number",
    "greater_than_equal": "is less than {ge}",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "finite_number": "is not a finite number",
    "greater_than": "is out of range",
    "less_than_equal": "is out of range",
    "bool_type": "is not true or false",
    "date_type": "is not a date",
    "date_from_datetime_parsing": "is not a valid date ({error})",
    "literal_error": "is not a missing-file policy",
    "string_too_short": "is not non-empty text",
}


def _bad(reason: str, accepts: str = "") -> PydanticCustomError:
    """A validation error saying ``reason`` (and what is accepted, if not what the field's :class:`_Env` says)."""
    return PydanticCustomError("cxpipe", "{reason}", {"reason": reason, **({"accepts": accepts} if accepts else {})})


def _problems(
    exc: ValidationError, given: Mapping[str, str] | None = None, fields: tuple[str, ...] = ()
) -> list[Problem]:
    """The first problem of each variable in ``exc``; ``given``: the variables' text, ``fields``: positional names."""
    found: dict[str, Problem] = {}
    for error in exc.errors():
        loc, ctx = error["loc"], error.get("ctx", {})
        if loc and isinstance(loc[0], int):  # a positional argument
            loc = (fields[loc[0]], *loc[1:])
        name = next((str(part) for part in loc if part in _ENVS), "")
        env = _ENVS.get(name, _Env(".".join(map(str, loc)), "a valid value"))  # or not a setting (a group's type)
        variable = _per_var(env.per, str(loc[loc.index(name) + 1])) if env.per and loc[-1] != name else env.name
        value = (given or {}).get(variable) or _text(error["input"])
        reason = _REASONS[error["type"]].format(**ctx) if error["type"] in _REASONS else error["msg"]
        found.setdefault(variable, Problem(variable, _mask(value, env.secret), reason, ctx.get("accepts", env.accepts)))
    return list(found.values())


# ------------------------------------------------------------------ kinds of values


def _token(pattern: str, reason: str) -> BeforeValidator:
    """Text must match ``pattern`` (any case) before pydantic converts it; typed values go straight to pydantic."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(pattern, value, re.IGNORECASE):
            raise _bad(reason)
        return value

    return BeforeValidator(check)


def _resolve(value: Any) -> Any:
    """Text becomes an absolute path, ``~`` and relative paths resolved."""
    try:
        return Path(value).expanduser().resolve() if isinstance(value, str) else value
    except (ValueError, OSError, RuntimeError) as exc:
        raise _bad(f"is not a usable path ({exc})") from None


def _file(value: Path) -> Path:
    """The path must name an existing file."""
    if not value.is_file():
        raise _bad("is a folder, not a file" if value.is_dir() else "does not exist")
    return value


def _codec(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise _bad("is not an encoding Python knows") from None
    return value


def _codec_list(value: Any) -> Any:
    """``CX_ENCODING_…``: one codec, or several comma-separated (detection chooses among them)."""
    if not isinstance(value, str):
        return value
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise _bad("names no encoding")
    for name in names:
        _codec(name)
    return names[0] if len(names) == 1 else tuple(names)


def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in standard_codes("iso4217"):
        raise _bad("is not an ISO 4217 currency code")
    return code


def _url(schemes: tuple[str, ...], need_host: bool) -> AfterValidator:
    """A URL with one of ``schemes``, kept as text (libpq and requests take it as given)."""

    def check(value: str) -> str:
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises for a port that is not a number
        except ValueError:
            raise _bad("is not a URL") from None
        if parts.scheme.lower() not in schemes:
            raise _bad(f"has scheme {parts.scheme}:" if parts.scheme else "has no scheme")
        if need_host and not parts.hostname:
            raise _bad("has no host")
        if any(ch.isspace() for ch in value):
            raise _bad("is not a URL (it contains blanks)")
        return value

    return AfterValidator(check)


def _source_list(value: Any) -> Any:
    """``CX_SOURCES``: comma-separated text (or a sequence) of known sources -> a tuple in the contract's order."""
    names = [n.strip().lower() for n in value.split(",")] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        return value  # pydantic names the wrong type
    names = [n for n in names if n]
    if unknown := sorted(set(names) - set(SOURCES)):
        raise _bad(f"names no known source ({', '.join(unknown)})")
    if not names:
        raise _bad("names no source")
    return tuple(s for s in SOURCES if s in names)


def _known(per: str) -> AfterValidator:
    """The key of a per-source mapping must name a source (or entity) of the contracts."""
    what = "source" if per == "source" else "source or entity"
    accepts = "a variable named one of " + ", ".join(_per_var(per, key) for key in _PER[per][1])

    def check(key: str) -> str:
        if key not in _PER[per][1]:
            raise _bad(f"names no known {what}", accepts)
        return key

    return AfterValidator(check)


_V = TypeVar("_V", bound=str)


class FrozenMap(Mapping[str, _V]):
    """A read-only, hashable, picklable mapping of text (per-source overrides)."""

    def __init__(self, items: Mapping[str, _V] | None = None) -> None:
        self._items = dict(items or {})

    def __getitem__(self, key: str) -> _V:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


_Folder = Annotated[Path, BeforeValidator(_resolve)]
_File = Annotated[Path, BeforeValidator(_resolve), AfterValidator(_file)]
_Text = Annotated[str, Field(min_length=1)]
_Whole = Annotated[int, _token(r"[+-]?[0-9]+", "is not a whole number")]
_Count = Annotated[_Whole, Field(ge=0)]
_Positive = Annotated[_Whole, Field(ge=1)]
_Boolean = Annotated[bool, _token(r"true|false|1|0|yes|no", "is not true or false")]
_Date = Annotated[date, _token(r"\d{4}-\d{2}-\d{2}", "is not an ISO date")]
_PolicyName = Annotated[_Policy, BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)]
_DbtTasks = Annotated[_DbtTaskMode, BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)]
_Engine = Annotated[_EngineName, BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)]
_Catalog = Annotated[_CatalogName, BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)]
_MemorySize = Annotated[
    str, _token(r"[0-9]+(\.[0-9]+)?\s*([KMGT]i?B|%)", "is not a memory size such as 3GB, 1.5GiB or 50%")
]
_Codec = Annotated[str, AfterValidator(_codec)]
_Codecs = Annotated[str | tuple[_Codec, ...], BeforeValidator(_codec_list)]
_Currency = Annotated[str, AfterValidator(_currency)]
_Frozen = AfterValidator(FrozenMap)
_PostgresUrl = Annotated[str, _url(("postgresql", "postgres"), need_host=False)]
_HttpUrl = Annotated[str, _url(("http", "https"), need_host=True)]
_Sources = Annotated[tuple[str, ...], BeforeValidator(_source_list)]

_PATH = "a folder path (relative paths and ~ are resolved)"
_TEXT, _DATE, _POLICIES = "any non-empty text", "an ISO date YYYY-MM-DD", f"one of {', '.join(MISSING_FILE_POLICIES)}"

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, field_specifiers=(Field,))
def _settings_class(cls: type[_T]) -> type[_T]:
    """``cls`` as a frozen pydantic dataclass whose constructor raises :class:`SettingsError`.

    Constructing it directly is strict (typed values only); :func:`load_settings` parses text.
    """
    config = ConfigDict(strict=True, extra="forbid", use_attribute_docstrings=True)
    built: Any = pydantic.dataclasses.dataclass(frozen=True, config=config)(cls)
    validate = built.__init__

    @functools.wraps(validate)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        try:
            validate(self, *args, **kwargs)
        except ValidationError as exc:
            if any(e["type"] == "missing" or "argument" in e["type"] for e in exc.errors()):  # a wrong call
                raise TypeError(str(exc)) from None
            raise SettingsError(_problems(exc, fields=tuple(built.__pydantic_fields__))) from None

    built.__init__ = __init__
    return cls  # the same class, now a pydantic dataclass


# ------------------------------------------------------------------ groups


@_settings_class
class ScheduleSettings:
    """When the ingest DAGs run and how Airflow retries and times out tasks."""

    start_date: Annotated[_Date, _Env("CX_START_DATE", _DATE)] = DEFAULT_START_DATE
    """first logical date the ingest DAGs schedule (UTC)"""
    end_date: Annotated[
        _Date | None, _Env("CX_END_DATE", f"{_DATE}, not before CX_START_DATE", "unset (open-ended)")
    ] = None
    """last logical date the ingest DAGs schedule"""
    catchup: Annotated[_Boolean, _Env("CX_CATCHUP", "true/false, 1/0 or yes/no")] = True
    """replay every missed day since the start date (`false` for deployments that backfill instead)"""
    landing_wait_hours: Annotated[_Positive, _Env("CX_LANDING_WAIT_HOURS", "a whole number ≥ 1, e.g. 6")] = 6
    """how long `wait_for_landing` waits for late files under the `wait` policy (a run may last twice as long)"""
    task_retries: Annotated[_Count, _Env("CX_TASK_RETRIES", "a whole number ≥ 0, e.g. 2")] = 2
    """retries of a failed task (exponential backoff)"""
    retry_delay_seconds: Annotated[_Positive, _Env("CX_RETRY_DELAY_SECONDS", "a whole number ≥ 1, e.g. 60")] = 60
    """first retry delay; it doubles up to 30 minutes"""
    task_timeout_minutes: Annotated[_Positive, _Env("CX_TASK_TIMEOUT_MINUTES", "a whole number ≥ 1, e.g. 60")] = 60
    """execution timeout of every task"""
    dbt_tasks: Annotated[_DbtTasks, _Env("CX_DBT_TASKS", f"one of {', '.join(DBT_TASK_MODES)}")] = "build"
    """how the transform DAG runs dbt: `build`, one task for the whole `dbt build` (a failed node fails it at once, \
named in its message, its log and the gate's report), or `node`, one Airflow task per seed and model (`dbt build \
--select` it, then its tests: a per-model grid, at about 1.4 CPU-s of task start per node)"""

    @pydantic.field_validator("end_date")
    @classmethod
    def _not_before_start(cls, end: date | None, info: pydantic.ValidationInfo) -> date | None:
        start = info.data.get("start_date")  # absent when the start date is itself invalid
        if end is not None and start is not None and end < start:
            raise _bad(f"is before CX_START_DATE={start.isoformat()}", "a date on or after CX_START_DATE, or unset")
        return end

    @property
    def start_datetime(self) -> datetime:
        """The start date as midnight UTC, as Airflow's ``start_date`` wants it."""
        return datetime.combine(self.start_date, datetime.min.time(), tzinfo=UTC)

    @property
    def end_datetime(self) -> datetime | None:
        """The end date as midnight UTC, or None for open-ended."""
        return datetime.combine(self.end_date, datetime.min.time(), tzinfo=UTC) if self.end_date else None

    @property
    def landing_wait(self) -> timedelta:
        return timedelta(hours=self.landing_wait_hours)

    @property
    def retry_delay(self) -> timedelta:
        return timedelta(seconds=self.retry_delay_seconds)

    @property
    def task_timeout(self) -> timedelta:
        return timedelta(minutes=self.task_timeout_minutes)


@_settings_class
class IngestSettings:
    """Which sources the deployment has, what ingest does with missing files, how it decodes them, and the
    deployment's changes to the contract."""

    sources: Annotated[
        _Sources,
        _Env("CX_SOURCES", f"a comma-separated subset of {', '.join(SOURCES)}", f"`{','.join(SOURCES)}`"),
    ] = SOURCES
    """the sources this deployment has: only they are ingested and waited for; the others read as empty, and \
reporting tables only they feed are published empty (see docs/decisions/0015-partial-deployments.md)"""
    missing_file_policy: Annotated[_PolicyName, _Env("CX_MISSING_FILE_POLICY", _POLICIES)] = "fail"
    """when a source file is missing for a date: `wait` (the DAG's sensor waits), `skip` or `fail`"""
    missing_file_policies: Annotated[
        Mapping[Annotated[str, _known("source")], _PolicyName],
        _Frozen,
        _Env("CX_MISSING_FILE_POLICY_<SOURCE>", _POLICIES, "`CX_MISSING_FILE_POLICY`", per="source"),
    ] = FrozenMap()
    """the policy of one source ({sources}), overriding `CX_MISSING_FILE_POLICY`"""
    encodings: Annotated[
        Mapping[Annotated[str, _known("source-entity")], _Codecs],
        _Frozen,
        _Env(
            "CX_ENCODING_<SOURCE>[_<ENTITY>]",
            "a codec name Python knows, e.g. utf-8, gbk, cp1251, or several comma-separated, e.g. utf-8,cp1252",
            f"detected among {', '.join(DEFAULT_ENCODINGS)}",
            per="source-entity",
        ),
    ] = FrozenMap()
    """declares the file encoding of a source, or of one of its entities (one codec: used as is; several: \
detection chooses among them, never another)"""
    contract_overrides: Annotated[
        _File | None,
        _Env(
            "CX_CONTRACT_OVERRIDES",
            "the path of an existing YAML file of contract overrides (see docs/sources.md)",
            "unset (the contract as shipped)",
        ),
    ] = None
    """changes to `dbt_project/contracts/sources.yml`: allowed values, bounds, optional files, timezones, formats, \
missing-value words, the export dialect (delimiter, decimal mark, thousands separator), column aliases and defaults"""

    def missing_file_policy_for(self, source: str) -> str:
        """``CX_MISSING_FILE_POLICY_<SOURCE>``, else ``CX_MISSING_FILE_POLICY``, else ``fail``."""
        return self.missing_file_policies.get(source, self.missing_file_policy)

    def encoding_for(self, source: str, entity: str) -> str | tuple[str, ...] | None:
        """``CX_ENCODING_<SOURCE>_<ENTITY>``, else ``CX_ENCODING_<SOURCE>``, else None (detect among
        :data:`DEFAULT_ENCODINGS`); a tuple: detect among these."""
        return self.encodings.get(f"{source}.{entity}") or self.encodings.get(source)


@_settings_class
class GateSettings:
    """Thresholds and inputs of the quality gate."""

    drift_pct: Annotated[
        FiniteFloat, Field(gt=0, le=1000), _Env("CX_GATE_DRIFT_PCT", "a number of percent > 0 and ≤ 1000, e.g. 50")
    ] = 50.0
    """the gate blocks when a table's row count or key metric moves more than this vs the last publication"""
    as_of: Annotated[_Date | None, _Env("CX_GATE_AS_OF", _DATE, "newest lake date")] = None
    """the date freshness checks measure against"""
    dbt_artifacts_dir: Annotated[
        _Folder | None,
        _Env(
            "CX_DBT_ARTIFACTS_DIR",
            _PATH,
            "in a DAG run its own `warehouse/dbt_results/<run id>/`; otherwise the newest of those, "
            "then `<CX_DATA_DIR>/dbt_target`, then `dbt_project/target`",
        ),
    ] = None
    """where `run_results.json` and `manifest.json` of the build are"""
    gx_sample_rows: Annotated[_Count, _Env("CX_GATE_GX_SAMPLE_ROWS", "a whole number ≥ 0, e.g. 10000")] = 10000
    """rows of each reporting table Great Expectations validates for the Data Docs (a seeded sample of bigger \
tables; 0: no Data Docs); the blocking verdict is computed in DuckDB over every row"""


@_settings_class
class PublishSettings:
    """What the reporting tables speak, and how publications are kept, labelled and mirrored to PostgreSQL."""

    keep_publications: Annotated[_Count, _Env("CX_KEEP_PUBLICATIONS", "a whole number ≥ 0, e.g. 3")] = 3
    """earlier publications kept for `cxpipe rollback`"""
    code_version: Annotated[_Text | None, _Env("CX_CODE_VERSION", _TEXT, "`<cxpipe version>+<git commit>`")] = None
    """version recorded in `publication_log`"""
    reporting_postgres_url: Annotated[
        _PostgresUrl | None,
        _Env("CX_REPORTING_POSTGRES_URL", "a postgresql:// URL (libpq connection URI)", "unset", secret="password"),
    ] = Field(default=None, repr=False)
    """also publish to PostgreSQL schema `reporting` (schema swap in one transaction)"""
    bi_password: Annotated[_Text | None, _Env("CX_BI_PASSWORD", _TEXT, "unset", secret="full")] = Field(
        default=None, repr=False
    )
    """password of the read-only BI role `cx_bi` that publish maintains in PostgreSQL (unset: it cannot log in)"""
    reporting_currency: Annotated[_Currency, _Env("CX_REPORTING_CURRENCY", "an ISO 4217 code, e.g. EUR, USD, BRL")] = (
        "EUR"
    )
    """every amount in the reporting tables is converted to it (seed `exchange_rates`; dbt var `reporting_currency`)"""


@_settings_class
class AlertSettings:
    """Where alerts go besides the alert log."""

    webhook_url: Annotated[
        _HttpUrl | None,
        _Env("CX_ALERT_WEBHOOK_URL", "an http:// or https:// URL", "unset", secret="path"),
    ] = Field(default=None, repr=False)
    """alerts (failed tasks, complaint spikes) are also POSTed here as JSON"""


@_settings_class
class EngineSettings:
    """Which engine the dbt build runs on, and how cxpipe reaches Spark when it is Spark (docs/spark.md)."""

    name: Annotated[_Engine, _Env("CX_ENGINE", f"one of {', '.join(ENGINES)}")] = "duckdb"
    """engine of the dbt build: `duckdb` (embedded, one machine) or `spark` (the same models on Apache Spark; \
the reporting tables are then exported into the DuckDB build file the gate and publish read)"""
    spark_master: Annotated[_Text, _Env("CX_SPARK_MASTER", "a Spark master URL, e.g. local[2], spark://host:7077")] = (
        "local[2]"
    )
    """Spark master of the build's SparkSession (`local[N]`: Spark inside the build process, N cores)"""
    spark_catalog: Annotated[_Catalog, _Env("CX_SPARK_CATALOG", f"one of {', '.join(SPARK_CATALOGS)}")] = "in-memory"
    """Spark catalog: `in-memory` (the build process's own; the reporting tables leave it as the export) or \
`hive` (an embedded Derby metastore under `<CX_DATA_DIR>/warehouse/spark/`, kept between builds: the snapshot's \
history)"""
    spark_driver_memory: Annotated[_Text, _Env("CX_SPARK_DRIVER_MEMORY", "a JVM size, e.g. 2g")] = "2g"
    """memory of the Spark driver (in local mode: of all of Spark)"""
    duckdb_memory_limit: Annotated[
        _MemorySize, _Env("CX_DUCKDB_MEMORY_LIMIT", "a size such as 3GB or 50% (of the machine's memory)")
    ] = "2.5GB"
    """memory DuckDB may hold during a dbt build before it spills to disk beside the build file \
(`cx.duckdb.tmp`; DuckDB's `memory_limit`, which covers its buffer manager only; GB is 10^9 bytes, GiB 2^30); \
the Airflow task's process, dbt, the complaint models and one batch of texts come on top, about 1.2 GiB at SF 100: \
with 2.5GB the whole pipeline through Airflow peaked at 3.6 GiB at SF 100 (decision 0038, docs/benchmarks.md)"""
    complaint_batch_texts: Annotated[_Positive, _Env("CX_COMPLAINT_BATCH_TEXTS", "a whole number ≥ 1, e.g. 50000")] = (
        50_000
    )
    """distinct complaint texts the text analysis (`int_complaint_texts_nlp`) holds in Python memory at a time; \
the other texts and the results wait in DuckDB"""


# ------------------------------------------------------------------ the settings object


@_settings_class
class Settings:
    """Everything cxpipe is configured with: paths, the PII key and the groups. Build it with :func:`load_settings`."""

    project_dir: Annotated[_Folder, _Env("CX_PROJECT_DIR", _PATH, "the repository")]
    """where `dags/`, `dbt_project/`, `expectations/` are"""
    data_dir: Annotated[_Folder, _Env("CX_DATA_DIR", _PATH, "`<CX_PROJECT_DIR>/data`")]
    """landing, lake, quarantine, warehouse, alerts"""
    dbt_project_dir: Annotated[_Folder, _Env("CX_DBT_PROJECT_DIR", _PATH, "`<CX_PROJECT_DIR>/dbt_project`")]
    """the dbt project"""
    gx_dir: Annotated[_Folder, _Env("CX_GX_DIR", _PATH, "`<CX_PROJECT_DIR>/expectations`")]
    """the Great Expectations file context"""
    pii_key: Annotated[_Text, _Env("CX_PII_KEY", _TEXT, "a demo key", secret="full")] = Field(repr=False)
    """key of the keyed hash that pseudonymises PII; **required** (at least 16 characters) unless `CX_DEMO_MODE`"""
    model_cache_dir: Annotated[
        _Folder | None, _Env("CX_MODEL_CACHE_DIR", _PATH, "`<CX_DATA_DIR>/warehouse/models`")
    ] = None
    """fitted complaint models, kept by a hash of what they learned from (a build retrains only when that changes)"""
    demo_mode: Annotated[_Boolean, _Env("CX_DEMO_MODE", "true/false, 1/0 or yes/no")] = False
    """demo data only: allows the built-in demo `CX_PII_KEY` (anyone can reverse ids pseudonymised with it); \
`make run` and the tests set it"""
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    gate: GateSettings = Field(default_factory=GateSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def models_dir(self) -> Path:
        """Where the complaint NLP keeps its fitted models (``CX_MODEL_CACHE_DIR``)."""
        return self.model_cache_dir or self.warehouse_dir / "models"

    @property
    def build_db(self) -> Path:
        """The DuckDB file dbt builds into (the audited, unpublished build)."""
        return self.warehouse_dir / "cx.duckdb"

    @property
    def reporting_db(self) -> Path:
        """The DuckDB file BI tools read; replaced atomically on publish."""
        return self.warehouse_dir / "reporting.duckdb"

    @property
    def dbt_target_dir(self) -> Path:
        return self.dbt_project_dir / "target"

    @property
    def manifest_path(self) -> Path:
        return self.dbt_target_dir / "manifest.json"

    @property
    def data_docs_index(self) -> Path:
        """Entry page of the Great Expectations Data Docs the quality gate builds."""
        return self.gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"

    def pseudonymisation_key(self) -> str:
        """The PII key, refused (:class:`PiiKeyError`) outside demo mode when it is the demo key, a
        placeholder or shorter than :data:`MIN_PII_KEY_LENGTH`: with a known key, every pseudonymised
        id can be reversed by hashing candidate ids."""
        if self.demo_mode:
            return self.pii_key
        if self.pii_key in _PLACEHOLDER_KEYS:
            problem = "is not set" if self.pii_key == DEMO_PII_KEY else "holds a placeholder"
        elif len(self.pii_key) < MIN_PII_KEY_LENGTH:
            problem = f"is shorter than {MIN_PII_KEY_LENGTH} characters"
        else:
            return self.pii_key
        raise PiiKeyError(
            f"CX_PII_KEY {problem}: PII is pseudonymised with a keyed hash, and a known or short key lets "
            f"anyone reverse it. Set CX_PII_KEY to a secret of at least {MIN_PII_KEY_LENGTH} characters from "
            'your secret store (e.g. python3 -c "import secrets; print(secrets.token_urlsafe(32))"), '
            "or CX_DEMO_MODE=true for demo data"
        )

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that dbt's profile and sources read (see :data:`EXPORTED`).

        dbt's unit tests (``unit_tests:``) check model logic on fixed inputs, not the data: CI runs
        them (the dbt test tier); the production builds leave them out (``DBT_EXCLUDE_RESOURCE_TYPES``).
        """
        return {
            "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
            "CX_DATA_DIR": str(self.data_dir),
            "CX_SOURCES": ",".join(self.ingest.sources),
            "CX_REPORTING_CURRENCY": self.publish.reporting_currency,
            "CX_MODEL_CACHE_DIR": str(self.models_dir),
            "CX_DUCKDB_MEMORY_LIMIT": self.engine.duckdb_memory_limit,
            "CX_COMPLAINT_BATCH_TEXTS": str(self.engine.complaint_batch_texts),
            **{name: str(getattr(self, attr)) for name, attr, *_ in EXPORTED},
        }


#: Variables cxpipe *sets* for dbt (derived, never read): name, Settings property, default, meaning.
EXPORTED: tuple[tuple[str, str, str, str], ...] = (
    ("CX_LAKE_DIR", "lake_dir", "`<CX_DATA_DIR>/lake`", "the lake folder dbt's sources read"),
    ("CX_BUILD_DB", "build_db", "`<CX_DATA_DIR>/warehouse/cx.duckdb`", "the DuckDB file dbt builds into"),
    (
        "CX_REPORTING_DB",
        "reporting_db",
        "`<CX_DATA_DIR>/warehouse/reporting.duckdb`",
        "the published file the semantic layer reads (dbt target `reporting`, read only)",
    ),
)

_GROUPS: dict[str, type[Any]] = {
    "": Settings,
    "schedule": ScheduleSettings,
    "ingest": IngestSettings,
    "gate": GateSettings,
    "publish": PublishSettings,
    "alerts": AlertSettings,
    "engine": EngineSettings,
}


def _documented() -> Iterator[tuple[str, str, _Env, str, Any]]:
    """(group, field name, variable, meaning, default) of every setting, in the order of the table."""
    for group, cls in _GROUPS.items():
        for name, info in cls.__pydantic_fields__.items():
            if env := next((m for m in info.metadata if isinstance(m, _Env)), None):
                yield group, name, env, (info.description or "").format(sources=", ".join(SOURCES)), info.default


_ENVS = {name: env for _, name, env, _, _ in _documented()}
_LOAD = TypeAdapter(Settings)


# ------------------------------------------------------------------ loading


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting from ``environ`` (default: the process environment).

    Raises :class:`SettingsError` naming every bad variable, its value and what it accepts.
    """
    env = os.environ if environ is None else environ
    given = {k: v if k in _VERBATIM else v.strip() for k, v in env.items() if k.startswith("CX_") and v.strip()}
    data: dict[str, Any] = {}
    for group, name, var, _, _ in _documented():
        values = data.setdefault(group, {}) if group else data
        if var.per:  # {key: text} of the family's variables, unknown keys included (validation names them)
            prefix, keys = _PER[var.per]
            known = {_per_var(var.per, key): key for key in keys}
            found = sorted((k, v) for k, v in given.items() if k.startswith(prefix))
            values[name] = {known.get(k, k.removeprefix(prefix).lower()): v for k, v in found}
        elif var.name in given:
            values[name] = given[var.name]
    project = data.setdefault("project_dir", str(REPO_ROOT))
    for name, folder in (("data_dir", "data"), ("dbt_project_dir", "dbt_project"), ("gx_dir", "expectations")):
        data.setdefault(name, str(Path(project, folder)))
    data.setdefault("pii_key", DEMO_PII_KEY)
    try:
        return _LOAD.validate_python(data, strict=False)  # text → typed values
    except ValidationError as exc:
        raise SettingsError(_problems(exc, given)) from None


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """``CX_*`` variables set in ``environ`` that no setting reads (typos, leftovers)."""
    env = os.environ if environ is None else environ
    known = {var.name for var in _ENVS.values()} | NOT_SETTINGS
    prefixes = tuple(prefix for prefix, _ in _PER.values())
    return sorted(
        name for name in env if name.startswith("CX_") and name not in known and not name.startswith(prefixes)
    )


# ------------------------------------------------------------------ documentation


def mask_url(url: str) -> str:
    """``url`` as it may be logged: its password, path and query (where webhook tokens live) hidden."""
    return _mask(url, "path")


def _mask(value: str, secret: str) -> str:
    """``value`` as it may appear in messages and listings: secrets (keys, passwords, webhook paths) hidden."""
    if secret == "full":
        return "***"
    if secret not in ("password", "path"):
        return value
    dsn_password = re.compile(r"(?i)(password\s*=\s*)[^\s&]+")  # key/value DSNs and ?password= of a URI
    if "://" not in value:
        if secret == "path" and "/" in value:
            return value.split("/", 1)[0] + "/***"
        return dsn_password.sub(r"\1***", value)
    try:
        parts = urlsplit(value)
    except ValueError:
        return value.split("://", 1)[0] + "://***"
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    if secret == "path":
        rest = "/***" if (parts.path not in ("", "/") or parts.query) else parts.path
        return f"{parts.scheme}://{netloc}{rest}"
    return dsn_password.sub(r"\1***", parts._replace(netloc=netloc).geturl())


def _text(value: Any) -> str:
    """A typed value as it would be written in its environment variable."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render_settings_table() -> str:
    """The configuration table (Markdown) for README.md, generated from the settings' metadata."""
    lines = ["| variable | setting | default | accepts | meaning |", "|---|---|---|---|---|"]
    for group, name, var, meaning, default in _documented():
        setting = f"{group}.{name}" if group else name
        setting += {"source": "[<source>]", "source-entity": "[<source>[.<entity>]]"}.get(var.per, "")
        shown = var.shown or ("unset" if default is None else f"`{_text(default)}`")
        rows = [(var.name, f"`{setting}`", shown, var.accepts, meaning)]
        if name == "pii_key":
            rows += [(e, f"`{a}` (derived)", d, "set by cxpipe for dbt; not read", m) for e, a, d, m in EXPORTED]
        for variable, cell, *texts in rows:
            lines.append("| " + " | ".join((f"`{variable}`", cell, *(t.replace("|", r"\|") for t in texts))) + " |")
    return "\n".join(lines) + "\n"


def describe_settings(settings: Settings) -> list[tuple[str, str]]:
    """(variable, effective value) of every setting, secrets masked, for ``cxpipe settings``."""
    rows: list[tuple[str, str]] = []
    for group, name, var, _, _ in _documented():
        value = getattr(getattr(settings, group) if group else settings, name)
        if var.per:
            rows += [(_per_var(var.per, key), _mask(item, var.secret)) for key, item in value.items()]
            rows += [] if value else [(var.name, "none set")]
        elif value is None:
            shown = var.shown.replace("`", "")
            rows.append((var.name, shown if shown.startswith("unset") else f"unset ({shown})"))
        elif name == "pii_key" and value == DEMO_PII_KEY:
            rows.append((var.name, "the demo key (set it in production)"))
        else:
            rows.append((var.name, _mask(_text(value), var.secret)))
        if name == "pii_key":
            rows += [(env, str(getattr(settings, attr))) for env, attr, *_ in EXPORTED]
    return rows
