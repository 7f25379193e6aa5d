"""cxpipe's configuration: every ``CX_*`` environment variable, parsed and validated once.

:func:`load_settings` reads the environment into one immutable :class:`Settings`
object with a group per concern (``schedule``, ``ingest``, ``gate``, ``publish``,
``alerts``) and the paths at the top level. Every value is checked up front; a bad
one raises :class:`SettingsError`, which lists *every* bad variable with the value
given and what it accepts, instead of failing later in the middle of a run.

Each field carries its environment variable, default, accepted values and meaning
as metadata: :func:`render_settings_table` renders the README's configuration table
from it (``cxpipe settings --format markdown``), so the docs cannot drift from the
code. An empty variable counts as unset.

Every path is absolute once resolved, because dbt and Airflow tasks may run from
another working directory (Cosmos runs dbt from a temporary copy of the project).
Derive a changed copy with :func:`dataclasses.replace` (validated again), e.g.
``replace(settings, gate=replace(settings.gate, drift_pct=10))``.
"""

from __future__ import annotations

import codecs
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cxpipe.contracts import ENTITIES, SOURCES

#: The repository root when cxpipe runs from a checkout (the usual case).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Demo key for pseudonymising PII; production sets CX_PII_KEY from a secret store.
DEMO_PII_KEY = "cxpipe-demo-key-not-secret"

#: First logical date the ingest DAGs schedule unless CX_START_DATE says otherwise.
DEFAULT_START_DATE = date(2026, 11, 1)

#: What a source may do when one of its files is missing for a date.
MISSING_FILE_POLICIES = ("wait", "skip", "fail")

#: ``CX_*`` variables that exist but are not cxpipe settings: exported by cxpipe for dbt,
#: read by dbt's profile only, or used by docker-compose / the deployment scripts only.
NOT_SETTINGS = frozenset(
    {"CX_LAKE_DIR", "CX_BUILD_DB", "CX_DBT_TARGET", "CX_LANDING_HOST_DIR", "CX_PUBLISHER_PASSWORD"}
)

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"[+-]?[0-9]+")
_METADATA_KEY = "cxpipe"


# ------------------------------------------------------------------ errors


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
        if len(problems) == 1:
            message = str(problems[0])
        else:
            lines = "\n".join(f"  - {p}" for p in problems)
            message = f"{len(problems)} invalid settings (see README, 'Configuration'):\n{lines}"
        super().__init__(message)


class _BadValueError(Exception):
    """Raised by a kind's parser or check; the message says what is wrong with the value."""


# ------------------------------------------------------------------ kinds of values


def _no_check(value: Any) -> None:
    return None


@dataclass(frozen=True)
class _Kind:
    """How one kind of value is parsed from text and checked once typed."""

    accepts: str
    parse: Callable[[str], Any]
    check: Callable[[Any], None] = _no_check
    strip: bool = True  # parse the value without surrounding blanks (not for keys and passwords)


def _path_kind() -> _Kind:
    def parse(text: str) -> Path:
        try:
            return Path(text).expanduser().resolve()
        except (ValueError, OSError, RuntimeError) as exc:
            raise _BadValueError(f"is not a usable path ({exc})") from None

    def check(value: Any) -> None:
        if not isinstance(value, Path):
            raise _BadValueError("is not a path")

    return _Kind("a folder path (relative paths and ~ are resolved)", parse, check)


def _text_kind(accepts: str = "any non-empty text") -> _Kind:
    def check(value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise _BadValueError("is not non-empty text")

    return _Kind(accepts, lambda text: text, check, strip=False)


def _whole_kind(minimum: int, example: int) -> _Kind:
    def parse(text: str) -> int:
        if not _WHOLE.fullmatch(text):
            raise _BadValueError("is not a whole number")
        return int(text)

    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _BadValueError("is not a whole number")
        if value < minimum:
            raise _BadValueError(f"is less than {minimum}")

    return _Kind(f"a whole number ≥ {minimum}, e.g. {example}", parse, check)


def _boolean_kind() -> _Kind:
    def parse(text: str) -> bool:
        lowered = text.lower()
        if lowered not in (*_TRUE, *_FALSE):
            raise _BadValueError("is not true or false")
        return lowered in _TRUE

    def check(value: Any) -> None:
        if not isinstance(value, bool):
            raise _BadValueError("is not true or false")

    return _Kind("true/false, 1/0 or yes/no", parse, check)


def _date_kind(accepts: str = "an ISO date YYYY-MM-DD") -> _Kind:
    def parse(text: str) -> date:
        if not _ISO_DATE.fullmatch(text):
            raise _BadValueError("is not an ISO date")
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise _BadValueError(f"is not a valid date ({exc})") from None

    def check(value: Any) -> None:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise _BadValueError("is not a date")

    return _Kind(accepts, parse, check)


def _percent_kind(low: float, high: float, example: str) -> _Kind:
    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise _BadValueError("is not a number") from None

    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _BadValueError("is not a number")
        if not math.isfinite(value):
            raise _BadValueError("is not a finite number")
        if not low < value <= high:
            raise _BadValueError("is out of range")

    return _Kind(f"a number of percent > {low:g} and ≤ {high:g}, e.g. {example}", parse, check)


def _choice_kind(options: tuple[str, ...], noun: str) -> _Kind:
    def check(value: Any) -> None:
        if value not in options:
            raise _BadValueError(f"is not a {noun}")

    return _Kind(f"one of {', '.join(options)}", lambda text: text.lower(), check)


def _encoding_kind() -> _Kind:
    def check(value: Any) -> None:
        if not isinstance(value, str):
            raise _BadValueError("is not an encoding name")
        try:
            codecs.lookup(value)
        except LookupError:
            raise _BadValueError("is not an encoding Python knows") from None

    return _Kind("a codec name Python knows, e.g. utf-8, gbk, cp1251", lambda text: text, check)


def _url_kind(schemes: tuple[str, ...], accepts: str, need_host: bool) -> _Kind:
    def check(value: Any) -> None:
        if not isinstance(value, str):
            raise _BadValueError("is not a URL")
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises for a port that is not a number
        except ValueError:
            raise _BadValueError("is not a URL") from None
        if parts.scheme.lower() not in schemes:
            found = f"scheme {parts.scheme}:" if parts.scheme else "no scheme"
            raise _BadValueError(f"has {found}")
        if need_host and not parts.hostname:
            raise _BadValueError("has no host")
        if any(ch.isspace() for ch in value):
            raise _BadValueError("is not a URL (it contains blanks)")

    return _Kind(accepts, lambda text: text, check)


_PATH = _path_kind()
_ENCODING = _encoding_kind()
_POLICY = _choice_kind(MISSING_FILE_POLICIES, "missing-file policy")


# ------------------------------------------------------------------ field metadata


@dataclass(frozen=True)
class _Spec:
    """What a settings field documents: its variable, default, accepted values and meaning."""

    env: str
    kind: _Kind
    help: str
    default: str = ""  # how the docs show the default; empty: the field's own default
    secret: str = ""  # "": shown as is; "full": never shown; "password": URL password masked; "path": URL path masked
    per: str = ""  # "source" or "source-entity": a mapping filled from CX_<...>_<SOURCE>[_<ENTITY>] variables


def _meta(env: str, kind: _Kind, help: str, default: str = "", secret: str = "", per: str = "") -> dict[str, _Spec]:
    return {_METADATA_KEY: _Spec(env, kind, help, default, secret, per)}


def _spec(f: Field[Any]) -> _Spec | None:
    spec = f.metadata.get(_METADATA_KEY)
    return spec if isinstance(spec, _Spec) else None


class FrozenMap(Mapping[str, str]):
    """A read-only, hashable, picklable ``str → str`` mapping (per-source overrides)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = dict(items or {})

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"

    def __getstate__(self) -> dict[str, str]:
        return self._items

    def __setstate__(self, state: dict[str, str]) -> None:
        self._items = state


# Per-source variables: variable name → mapping key (``source`` or ``source.entity``).
_POLICY_VARS = {f"CX_MISSING_FILE_POLICY_{source.upper()}": source for source in SOURCES}
_ENCODING_VARS = {
    **{f"CX_ENCODING_{source.upper()}": source for source in SOURCES},
    **{f"CX_ENCODING_{e.source.upper()}_{e.name.upper()}": f"{e.source}.{e.name}" for e in ENTITIES},
}
_PER_VARS = {"source": ("CX_MISSING_FILE_POLICY_", _POLICY_VARS), "source-entity": ("CX_ENCODING_", _ENCODING_VARS)}


def _per_var(per: str, key: str) -> str:
    prefix, known = _PER_VARS[per]
    return next((name for name, k in known.items() if k == key), prefix + key.upper().replace(".", "_"))


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


def _check_fields(obj: Any) -> list[Problem]:
    """Problems of a settings object's typed values (the same rules :func:`load_settings` applies)."""
    problems: list[Problem] = []
    for f in fields(obj):
        spec = _spec(f)
        value = getattr(obj, f.name)
        if spec is None or value is None:
            continue
        if spec.per:
            known = set(_PER_VARS[spec.per][1].values())
            for key, item in value.items():
                name = _per_var(spec.per, key)
                if key not in known:
                    problems.append(_unknown_name(spec, name, str(item)))
                    continue
                try:
                    spec.kind.check(item)
                except _BadValueError as exc:
                    problems.append(Problem(name, _mask(_value_text(item), spec.secret), str(exc), spec.kind.accepts))
            continue
        try:
            spec.kind.check(value)
        except _BadValueError as exc:
            problems.append(Problem(spec.env, _mask(_value_text(value), spec.secret), str(exc), spec.kind.accepts))
    return problems


def _unknown_name(spec: _Spec, name: str, value: str) -> Problem:
    """A per-source variable whose name matches no source (or entity) of the contracts."""
    what = "source" if spec.per == "source" else "source or entity"
    known = ", ".join(_PER_VARS[spec.per][1])
    return Problem(name, _mask(value, spec.secret), f"names no known {what}", f"a variable named one of {known}")


def _validate(obj: Any, extra: list[Problem] | None = None) -> None:
    problems = _check_fields(obj) + (extra or [])
    if problems:
        raise SettingsError(problems)


# ------------------------------------------------------------------ groups


@dataclass(frozen=True)
class ScheduleSettings:
    """When the ingest DAGs run and how Airflow retries and times out tasks."""

    start_date: date = field(
        default=DEFAULT_START_DATE,
        metadata=_meta("CX_START_DATE", _date_kind(), "first logical date the ingest DAGs schedule (UTC)"),
    )
    end_date: date | None = field(
        default=None,
        metadata=_meta(
            "CX_END_DATE",
            _date_kind("an ISO date YYYY-MM-DD, not before CX_START_DATE"),
            "last logical date the ingest DAGs schedule",
            default="unset (open-ended)",
        ),
    )
    catchup: bool = field(
        default=True,
        metadata=_meta(
            "CX_CATCHUP",
            _boolean_kind(),
            "replay every missed day since the start date (`false` for deployments that backfill instead)",
        ),
    )
    landing_wait_hours: int = field(
        default=6,
        metadata=_meta(
            "CX_LANDING_WAIT_HOURS",
            _whole_kind(1, 6),
            "how long `wait_for_landing` waits for late files under the `wait` policy (a run may last twice as long)",
        ),
    )
    task_retries: int = field(
        default=2,
        metadata=_meta("CX_TASK_RETRIES", _whole_kind(0, 2), "retries of a failed task (exponential backoff)"),
    )
    retry_delay_seconds: int = field(
        default=60,
        metadata=_meta("CX_RETRY_DELAY_SECONDS", _whole_kind(1, 60), "first retry delay; it doubles up to 30 minutes"),
    )
    task_timeout_minutes: int = field(
        default=60,
        metadata=_meta("CX_TASK_TIMEOUT_MINUTES", _whole_kind(1, 60), "execution timeout of every task"),
    )

    def __post_init__(self) -> None:
        _validate(self, _schedule_problems(self.start_date, self.end_date))

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


def _schedule_problems(start: Any, end: Any) -> list[Problem]:
    if isinstance(start, date) and isinstance(end, date) and end < start:
        accepts = "a date on or after CX_START_DATE, or unset"
        return [Problem("CX_END_DATE", end.isoformat(), f"is before CX_START_DATE={start.isoformat()}", accepts)]
    return []


@dataclass(frozen=True)
class IngestSettings:
    """What ingest does with missing files and how it decodes them, per source."""

    missing_file_policy: str = field(
        default="fail",
        metadata=_meta(
            "CX_MISSING_FILE_POLICY",
            _POLICY,
            "when a source file is missing for a date: `wait` (the DAG's sensor waits), `skip` or `fail`",
        ),
    )
    missing_file_policies: Mapping[str, str] = field(
        default_factory=FrozenMap,
        metadata=_meta(
            "CX_MISSING_FILE_POLICY_<SOURCE>",
            _POLICY,
            f"the policy of one source ({', '.join(SOURCES)}), overriding `CX_MISSING_FILE_POLICY`",
            default="`CX_MISSING_FILE_POLICY`",
            per="source",
        ),
    )
    encodings: Mapping[str, str] = field(
        default_factory=FrozenMap,
        metadata=_meta(
            "CX_ENCODING_<SOURCE>[_<ENTITY>]",
            _ENCODING,
            "declares the file encoding of a source, or of one of its entities, instead of detecting it",
            default="detected",
            per="source-entity",
        ),
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "missing_file_policies", FrozenMap(self.missing_file_policies))
        object.__setattr__(self, "encodings", FrozenMap(self.encodings))
        _validate(self)

    def missing_file_policy_for(self, source: str) -> str:
        """``CX_MISSING_FILE_POLICY_<SOURCE>``, else ``CX_MISSING_FILE_POLICY``, else ``fail``."""
        return self.missing_file_policies.get(source, self.missing_file_policy)

    def encoding_for(self, source: str, entity: str) -> str | None:
        """``CX_ENCODING_<SOURCE>_<ENTITY>``, else ``CX_ENCODING_<SOURCE>``, else None (detect)."""
        return self.encodings.get(f"{source}.{entity}") or self.encodings.get(source)


@dataclass(frozen=True)
class GateSettings:
    """Thresholds and inputs of the quality gate."""

    drift_pct: float = field(
        default=50.0,
        metadata=_meta(
            "CX_GATE_DRIFT_PCT",
            _percent_kind(0, 1000, "50"),
            "the gate blocks when a table's row count or key metric moves more than this vs the last publication",
        ),
    )
    as_of: date | None = field(
        default=None,
        metadata=_meta(
            "CX_GATE_AS_OF", _date_kind(), "the date freshness checks measure against", default="newest lake date"
        ),
    )
    dbt_artifacts_dir: Path | None = field(
        default=None,
        metadata=_meta(
            "CX_DBT_ARTIFACTS_DIR",
            _PATH,
            "where `run_results.json` and `manifest.json` of the build are",
            default=(
                "newest `warehouse/dbt_results/<run id>/`, then `<CX_DATA_DIR>/dbt_target`, then `dbt_project/target`"
            ),
        ),
    )

    def __post_init__(self) -> None:
        _validate(self)


@dataclass(frozen=True)
class PublishSettings:
    """How publications are kept, labelled and mirrored to PostgreSQL."""

    keep_publications: int = field(
        default=3,
        metadata=_meta("CX_KEEP_PUBLICATIONS", _whole_kind(0, 3), "earlier publications kept for `cxpipe rollback`"),
    )
    code_version: str | None = field(
        default=None,
        metadata=_meta(
            "CX_CODE_VERSION",
            _text_kind(),
            "version recorded in `publication_log`",
            default="`<cxpipe version>+<git commit>`",
        ),
    )
    reporting_postgres_url: str | None = field(
        default=None,
        repr=False,
        metadata=_meta(
            "CX_REPORTING_POSTGRES_URL",
            _url_kind(("postgresql", "postgres"), "a postgresql:// URL (libpq connection URI)", need_host=False),
            "also publish to PostgreSQL schema `reporting` (schema swap in one transaction)",
            default="unset",
            secret="password",
        ),
    )
    bi_password: str | None = field(
        default=None,
        repr=False,
        metadata=_meta(
            "CX_BI_PASSWORD",
            _text_kind(),
            "password of the read-only BI role `cx_bi` that publish maintains in PostgreSQL (unset: it cannot log in)",
            default="unset",
            secret="full",
        ),
    )

    def __post_init__(self) -> None:
        _validate(self)


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go besides the alert log."""

    webhook_url: str | None = field(
        default=None,
        repr=False,
        metadata=_meta(
            "CX_ALERT_WEBHOOK_URL",
            _url_kind(("http", "https"), "an http:// or https:// URL", need_host=True),
            "alerts (failed tasks, complaint spikes) are also POSTed here as JSON",
            default="unset",
            secret="path",
        ),
    )

    def __post_init__(self) -> None:
        _validate(self)


_GROUPS: tuple[tuple[str, type[Any]], ...] = (
    ("schedule", ScheduleSettings),
    ("ingest", IngestSettings),
    ("gate", GateSettings),
    ("publish", PublishSettings),
    ("alerts", AlertSettings),
)


# ------------------------------------------------------------------ the settings object


@dataclass(frozen=True)
class Settings:
    """Everything cxpipe is configured with. Build it with :func:`load_settings`."""

    project_dir: Path = field(
        metadata=_meta(
            "CX_PROJECT_DIR", _PATH, "where `dags/`, `dbt_project/`, `expectations/` are", default="the repository"
        )
    )
    data_dir: Path = field(
        metadata=_meta(
            "CX_DATA_DIR", _PATH, "landing, lake, quarantine, warehouse, alerts", default="`<CX_PROJECT_DIR>/data`"
        )
    )
    dbt_project_dir: Path = field(
        metadata=_meta("CX_DBT_PROJECT_DIR", _PATH, "the dbt project", default="`<CX_PROJECT_DIR>/dbt_project`")
    )
    gx_dir: Path = field(
        metadata=_meta(
            "CX_GX_DIR", _PATH, "the Great Expectations file context", default="`<CX_PROJECT_DIR>/expectations`"
        )
    )
    pii_key: str = field(
        repr=False,
        metadata=_meta(
            "CX_PII_KEY",
            _text_kind(),
            "key of the keyed hash that pseudonymises PII; **set it in production**",
            default="a demo key",
            secret="full",
        ),
    )
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    gate: GateSettings = field(default_factory=GateSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    def __post_init__(self) -> None:
        _validate(self)

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

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that dbt's profile and sources read (see :data:`EXPORTED`)."""
        return {"CX_DATA_DIR": str(self.data_dir), **{name: str(getattr(self, attr)) for name, attr, *_ in EXPORTED}}


#: Variables cxpipe *sets* for dbt (derived, never read): name, Settings property, default, meaning.
EXPORTED: tuple[tuple[str, str, str, str], ...] = (
    ("CX_LAKE_DIR", "lake_dir", "`<CX_DATA_DIR>/lake`", "the lake folder dbt's sources read"),
    ("CX_BUILD_DB", "build_db", "`<CX_DATA_DIR>/warehouse/cx.duckdb`", "the DuckDB file dbt builds into"),
)


# ------------------------------------------------------------------ loading


def _raw(environ: Mapping[str, str], name: str, strip: bool = True) -> str:
    """The variable's text; empty when unset or blank. Text values (keys, passwords) are kept verbatim."""
    raw = environ.get(name, "")
    if not raw.strip():
        return ""
    return raw.strip() if strip else raw


def _parse(spec: _Spec, raw: str, problems: list[Problem]) -> Any:
    """The typed value of ``raw`` (parsed and checked), or MISSING after recording a problem."""
    try:
        value = spec.kind.parse(raw)
        spec.kind.check(value)
    except _BadValueError as exc:
        problems.append(Problem(spec.env, _mask(raw, spec.secret), str(exc), spec.kind.accepts))
        return MISSING
    return value


def _parse_per(spec: _Spec, environ: Mapping[str, str], problems: list[Problem]) -> dict[str, str]:
    prefix, known = _PER_VARS[spec.per]
    found: dict[str, str] = {}
    for name in sorted(environ):
        raw = _raw(environ, name)
        if not name.startswith(prefix) or not raw:
            continue
        if name not in known:
            problems.append(_unknown_name(spec, name, raw))
            continue
        value = _parse(_Spec(name, spec.kind, spec.help, secret=spec.secret), raw, problems)
        if value is not MISSING:
            found[known[name]] = value
    return found


def _group_values(cls: type[Any], environ: Mapping[str, str], problems: list[Problem]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields(cls):
        spec = _spec(f)
        if spec is None:
            continue
        if spec.per:
            values[f.name] = _parse_per(spec, environ, problems)
        elif (raw := _raw(environ, spec.env, spec.kind.strip)) and (
            value := _parse(spec, raw, problems)
        ) is not MISSING:
            values[f.name] = value
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting from ``environ`` (default: the process environment).

    Raises :class:`SettingsError` naming every bad variable, its value and what it accepts.
    """
    env = os.environ if environ is None else environ
    problems: list[Problem] = []

    def path(name: str, default: Path) -> Path:
        spec = _SETTINGS_SPECS[name]
        raw = _raw(env, spec.env)
        value = _parse(spec, raw, problems) if raw else MISSING
        resolved: Path = default.resolve() if value is MISSING else value
        return resolved

    project_dir = path("project_dir", REPO_ROOT)
    top: dict[str, Any] = {
        "project_dir": project_dir,
        "data_dir": path("data_dir", project_dir / "data"),
        "dbt_project_dir": path("dbt_project_dir", project_dir / "dbt_project"),
        "gx_dir": path("gx_dir", project_dir / "expectations"),
        "pii_key": _raw(env, "CX_PII_KEY", strip=False) or DEMO_PII_KEY,
    }
    groups = {name: _group_values(cls, env, problems) for name, cls in _GROUPS}
    if not {"CX_START_DATE", "CX_END_DATE"} & {p.variable for p in problems}:
        schedule = groups["schedule"]
        problems += _schedule_problems(schedule.get("start_date", DEFAULT_START_DATE), schedule.get("end_date"))
    if problems:
        raise SettingsError(problems)
    return Settings(**top, **{name: cls(**groups[name]) for name, cls in _GROUPS})


_SETTINGS_SPECS: dict[str, _Spec] = {f.name: s for f in fields(Settings) if (s := _spec(f)) is not None}


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """``CX_*`` variables set in ``environ`` that no setting reads (typos, leftovers)."""
    env = os.environ if environ is None else environ
    known = {spec.env for _, _, spec, _ in _specs()} | NOT_SETTINGS
    prefixes = tuple(prefix for prefix, _ in _PER_VARS.values())
    return sorted(
        name for name in env if name.startswith("CX_") and name not in known and not name.startswith(prefixes)
    )


# ------------------------------------------------------------------ documentation


def _specs() -> Iterator[tuple[str, str, _Spec, Any]]:
    """(group, field name, spec, field default) of every setting, in documentation order."""
    for f in fields(Settings):
        if (spec := _spec(f)) is not None:
            yield "", f.name, spec, f.default
    for group, cls in _GROUPS:
        for f in fields(cls):
            if (spec := _spec(f)) is not None:
                yield group, f.name, spec, f.default


def _value_text(value: Any) -> str:
    """A typed value as it would be written in its environment variable."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _default_text(spec: _Spec, default: Any) -> str:
    """The default as the table shows it (Markdown)."""
    if spec.default:
        return spec.default
    return "unset" if default is None or default is MISSING else f"`{_value_text(default)}`"


def _plain(text: str) -> str:
    return text.replace("**", "").replace("`", "")


def _cell(text: str) -> str:
    return text.replace("|", r"\|")


def render_settings_table() -> str:
    """The configuration table (Markdown) for README.md, generated from the settings' metadata."""
    lines = [
        "| variable | setting | default | accepts | meaning |",
        "|---|---|---|---|---|",
    ]
    rows: list[tuple[str, str, str, str, str]] = []
    for group, name, spec, default in _specs():
        setting = f"{group}.{name}" if group else name
        if spec.per:
            setting += "[<source>]" if spec.per == "source" else "[<source>[.<entity>]]"
        rows.append((spec.env, setting, _default_text(spec, default), spec.kind.accepts, spec.help))
        if name == "pii_key":
            for env, attr, default_text, meaning in EXPORTED:
                rows.append((env, f"`{attr}` (derived)", default_text, "set by cxpipe for dbt; not read", meaning))
    for env, setting, default_text, accepts, meaning in rows:
        shown = setting if setting.startswith("`") else f"`{setting}`"
        cells = (f"`{env}`", shown, _cell(default_text), _cell(accepts), _cell(meaning))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def describe_settings(settings: Settings) -> list[tuple[str, str]]:
    """(variable, effective value) of every setting, secrets masked, for ``cxpipe settings``."""
    rows: list[tuple[str, str]] = []
    for group, name, spec, _ in _specs():
        value = getattr(getattr(settings, group) if group else settings, name)
        if spec.per:
            rows += [(_per_var(spec.per, key), _mask(str(item), spec.secret)) for key, item in value.items()]
            if not value:
                rows.append((spec.env, "none set"))
        elif value is None:
            default = _plain(spec.default)
            rows.append((spec.env, default if default.startswith("unset") else f"unset ({default})"))
        elif name == "pii_key" and value == DEMO_PII_KEY:
            rows.append((spec.env, "the demo key (set it in production)"))
        else:
            rows.append((spec.env, _mask(_value_text(value), spec.secret)))
        if name == "pii_key":
            rows += [(env, str(getattr(settings, attr))) for env, attr, *_ in EXPORTED]
    return rows
