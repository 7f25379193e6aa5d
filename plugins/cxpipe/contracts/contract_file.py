"""Read a contract file (``dbt_project/contracts/sources.yml``) and a deployment's overrides of it.

Both are YAML, validated against ``sources.schema.json`` (the contract, and its
``$defs/override`` shape for overrides), then checked for what a schema cannot say
(the key is a column, a bound fits the column's type, an override names columns
that exist…). Every problem raises :class:`~cxpipe.contracts.model.ContractError`
naming the file, the path inside it (``sources.sales.entities.orders.columns.currency.allowed``)
and what is expected there.

Overrides are merged over the contract:

* source: ``timezone``, ``timestamp_formats``, ``null_values``, ``delimiter``, ``decimal_mark``,
  ``thousands_separator`` (replace);
* entity: ``optional``, ``format`` (``csv`` or ``jsonl``: the landing file's name ends in it);
* column: ``aliases`` (the names it has in the exports), ``default`` (the value of rows without one),
  ``allowed`` (replace: the column becomes a closed list, or narrows a standard),
  ``allowed_add`` (add to the closed list, the open ``known`` list, or a standard's codes),
  ``known`` (replace: the column becomes an open list), ``minimum``/``maximum`` (``null``
  removes the bound), ``required``, ``days_before_load``/``days_after_load`` (the window around the
  load date a timestamp or date may lie in).
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import yaml

from cxpipe.contracts.model import (
    DAYS_AFTER_LOAD,
    DAYS_BEFORE_LOAD,
    EPOCH_FORMATS,
    INTEGER,
    NUMBER,
    STANDARDS,
    Column,
    ColumnType,
    Contract,
    ContractError,
    Entity,
    FileFormat,
    Standard,
    standard_codes,
)

#: The base contract, beside the dbt project.
CONTRACT_FILE = Path(__file__).resolve().parents[3] / "dbt_project" / "contracts" / "sources.yml"
#: Its JSON Schema (and the shape of overrides, ``$defs/override``).
SCHEMA_FILE = CONTRACT_FILE.with_name("sources.schema.json")

_STRING_RULES = ("allowed", "known", "standard")
_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}


def _where(path: Iterable[object]) -> str:
    """``sources.sales.entities.orders.columns.currency.allowed[0]`` for a path of keys and indexes."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the top level)"


def _fail(origin: Path | str, location: str, message: str, expected: str) -> ContractError:
    return ContractError(str(origin), message, f"Expected {expected}" if expected else "", location)


# ------------------------------------------------------------------ reading and schema


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML's safe loader, refusing a key twice in one mapping (YAML itself keeps the last silently)."""


def _mapping(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark
            )
        seen.add(key)
    return cast(dict[Any, Any], loader.construct_mapping(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(str(path), f"cannot read the contract file ({exc.strerror or exc})") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractError(str(path), f"not valid YAML ({problem})", "", where) from None


def _schema() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def _validate(document: Any, origin: Path, shape: str) -> None:
    """Check ``document`` against the schema's ``$defs/<shape>``; raise for the first problem."""
    import jsonschema  # imported here: only reading a contract needs it

    schema = _schema()
    validator = jsonschema.Draft202012Validator({"$ref": f"#/$defs/{shape}", "$defs": schema["$defs"]})
    errors = sorted(validator.iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return
    error = errors[0]
    path = list(error.absolute_path)
    described = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        path.append(extra[0] if extra else "?")
        message, expected = "not a key this file knows", "one of " + ", ".join(known)
    elif error.validator == "required":
        message, expected = error.message, described
    elif error.validator == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
        message, expected = f"{error.instance!r} is not {words}", described or words
    elif "propertyNames" in error.schema_path:  # a key of a mapping: a source, entity or column name
        path.append(error.instance)
        message, expected = "not a valid name", described
    elif error.validator in ("enum", "const"):
        message, expected = f"{error.instance!r} is not accepted", described
    elif error.validator == "pattern":
        message, expected = f"{error.instance!r} does not fit", described
    else:
        message, expected = error.message, described
    more = len(errors) - 1
    if more:
        expected += f" ({more} more problem{'s' if more > 1 else ''} after this one)"
    raise _fail(origin, _where(path), message, expected)


# ------------------------------------------------------------------ checks a schema cannot make


def _check_formats(formats: list[str], origin: Path | str, where: str) -> None:
    sample = datetime(2026, 4, 3, 10, 0, tzinfo=UTC)
    for index, fmt in enumerate(formats):
        if fmt in EPOCH_FORMATS:
            continue
        try:
            datetime.strptime(sample.strftime(fmt), fmt)
        except ValueError as exc:
            raise _fail(
                origin,
                f"{where}[{index}]",
                f"{fmt!r} is not a usable strptime format ({exc})",
                "e.g. %d/%m/%Y %H:%M, or one of " + ", ".join(EPOCH_FORMATS),
            ) from None


def _check_marks(source: dict[str, Any], origin: Path | str, at: str) -> None:
    """A source's thousands separator is not its decimal mark."""
    mark = source.get("decimal_mark", ".")
    if source.get("thousands_separator") == mark:
        message = f"{mark!r} is the decimal mark"
        raise _fail(origin, f"{at}.thousands_separator", message, "another character than the decimal mark")


def _check_timezone(name: str, origin: Path | str, where: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        expected = "an IANA time zone name, e.g. America/Sao_Paulo"
        raise _fail(origin, where, f"{name!r} is not a time zone", expected) from None


def _check_codes(codes: list[str], standard: str, origin: Path | str, where: str) -> None:
    valid = standard_codes(standard)
    for index, code in enumerate(codes):
        if code.upper() not in valid:
            raise _fail(origin, f"{where}[{index}]", f"{code!r} is not an {STANDARDS[standard]}", STANDARDS[standard])


def _check(document: dict[str, Any], origin: Path | str) -> None:
    """What the schema cannot check, on a whole (possibly merged) contract."""
    for source_name, source in document["sources"].items():
        at = f"sources.{source_name}"
        if "timezone" in source:
            _check_timezone(source["timezone"], origin, f"{at}.timezone")
        _check_formats(source.get("timestamp_formats", []), origin, f"{at}.timestamp_formats")
        _check_marks(source, origin, at)
        for entity_name, entity in source["entities"].items():
            at = f"sources.{source_name}.entities.{entity_name}"
            columns: dict[str, Any] = entity["columns"]
            if not entity["file"].endswith(f".{entity['format']}"):
                raise _fail(origin, f"{at}.file", f"{entity['file']!r} does not end in .{entity['format']}", "")
            if entity["key"] not in columns:
                raise _fail(origin, f"{at}.key", f"{entity['key']!r} is not a column", "one of " + ", ".join(columns))
            if not columns[entity["key"]].get("required", True):
                raise _fail(origin, f"{at}.columns.{entity['key']}.required", "the key must be required", "true")
            event = entity.get("event_column")
            if event is not None and (event not in columns or columns[event]["type"] not in ("timestamp", "date")):
                times = [n for n, c in columns.items() if c["type"] in ("timestamp", "date")]
                message = f"{event!r} is not a timestamp or date column"
                raise _fail(origin, f"{at}.event_column", message, "one of " + ", ".join(times))
            for column_name, column in columns.items():
                _check_column(column, origin, f"{at}.columns.{column_name}")
                _check_not_before(columns, column_name, origin, f"{at}.columns.{column_name}.not_before")


def _check_not_before(columns: dict[str, Any], name: str, origin: Path | str, at: str) -> None:
    """``not_before`` names another timestamp column of the entity, on a timestamp column."""
    other = columns[name].get("not_before")
    if other is None:
        return
    times = [n for n, c in columns.items() if c["type"] == "timestamp" and n != name]
    if columns[name]["type"] != "timestamp" or other not in times:
        raise _fail(origin, at, f"{other!r} is not another timestamp column", "one of " + ", ".join(times))


def _check_aliases(columns: dict[str, Any], origin: Path, at: str) -> None:
    """An alias names one column of its entity: not another column, not an alias of another column."""
    owner: dict[str, str] = {}
    for column_name, column in columns.items():
        for index, alias in enumerate(column.get("aliases", [])):
            where = f"{at}.columns.{column_name}.aliases[{index}]"
            if alias in columns and alias != column_name:
                raise _fail(origin, where, f"{alias!r} is another column of the entity", "a name no column has")
            if owner.setdefault(alias, column_name) != column_name:
                raise _fail(origin, where, f"{alias!r} is also an alias of {owner[alias]!r}", "one column per alias")


def _check_column(column: dict[str, Any], origin: Path | str, at: str) -> None:
    kind = column["type"]
    rules = [rule for rule in _STRING_RULES if column.get(rule) is not None]
    if rules and kind != "string":
        raise _fail(origin, f"{at}.{rules[0]}", f"{kind} columns have no list of values", "lists on string columns")
    if "allowed" in rules and "known" in rules:
        message = "a column has a closed (allowed) or an open (known) list, not both"
        raise _fail(origin, f"{at}.known", message, "one of allowed and known")
    if "standard" in rules and "known" in rules:
        raise _fail(origin, f"{at}.known", f"{column['standard']} is a closed list of codes", "allowed to narrow it")
    if column.get("standard") is not None and column.get("allowed") is not None:
        _check_codes(column["allowed"], column["standard"], origin, f"{at}.allowed")
    for window in ("days_before_load", "days_after_load"):
        if column.get(window) is not None and kind not in ("timestamp", "date"):
            raise _fail(origin, f"{at}.{window}", f"{kind} columns have no {window}", "on timestamp and date columns")
    for bound in ("minimum", "maximum"):
        if column.get(bound) is not None and kind not in ("integer", "number"):
            raise _fail(origin, f"{at}.{bound}", f"{kind} columns have no {bound}", "bounds on number columns only")
    low, high = column.get("minimum"), column.get("maximum")
    if low is not None and high is not None and low > high:
        raise _fail(origin, f"{at}.minimum", f"minimum {low:g} is above maximum {high:g}", "minimum ≤ maximum")
    default = column.get("default")
    if default is not None:
        _check_default(column, default, origin, f"{at}.default")


def _check_default(column: dict[str, Any], default: str, origin: Path | str, at: str) -> None:
    """A column's default fits its type and list (a value it would quarantine in every row is refused here)."""
    kind = column["type"]
    if kind in ("timestamp", "date"):
        raise _fail(origin, at, f"{kind} columns have no default", "defaults on text, number and boolean columns")
    pattern = {"integer": INTEGER, "number": NUMBER}.get(kind)
    if pattern is not None and not re.fullmatch(pattern, default):
        raise _fail(origin, at, f"{default!r} is not a plain {kind}", f"a {kind} written with digits 0-9, e.g. 4")
    if kind == "boolean" and default.lower() not in ("true", "false"):
        raise _fail(origin, at, f"{default!r} is not true or false", "true or false")
    allowed = column.get("allowed")
    if allowed is not None and default not in allowed and default.upper() not in allowed:
        raise _fail(
            origin, at, f"{default!r} is not one of the column's allowed values", "one of " + ", ".join(allowed)
        )
    number = float(default) if pattern is not None else None
    low, high = column.get("minimum"), column.get("maximum")
    if number is not None and ((low is not None and number < low) or (high is not None and number > high)):
        raise _fail(origin, at, f"{default!r} is outside the column's bounds", "a value within minimum and maximum")


# ------------------------------------------------------------------ overrides


def _merge(document: dict[str, Any], overrides: dict[str, Any], origin: Path) -> None:
    """Apply ``overrides`` to ``document`` in place; names must exist in the contract."""

    def existing(mapping: dict[str, Any], name: str, what: str, at: str) -> dict[str, Any]:
        if name not in mapping:
            raise _fail(origin, at, f"no {what} {name!r} in the contract", "one of " + ", ".join(mapping))
        return cast(dict[str, Any], mapping[name])

    for source_name, source_change in overrides.get("sources", {}).items():
        at = f"sources.{source_name}"
        source = existing(document["sources"], source_name, "source", at)
        for key in ("timezone", "timestamp_formats", "null_values", "delimiter", "decimal_mark", "thousands_separator"):
            if key in source_change:
                source[key] = source_change[key]
        _check_marks(source, origin, at)
        for entity_name, entity_change in source_change.get("entities", {}).items():
            at = f"sources.{source_name}.entities.{entity_name}"
            entity = existing(source["entities"], entity_name, "entity", at)
            if "optional" in entity_change:
                entity["optional"] = entity_change["optional"]
            if "format" in entity_change:  # the same file name, ending in the format the exports have
                stem = entity["file"].removesuffix(f".{entity['format']}")
                entity["format"] = entity_change["format"]
                entity["file"] = f"{stem}.{entity['format']}"
            for column_name, change in entity_change.get("columns", {}).items():
                at = f"sources.{source_name}.entities.{entity_name}.columns.{column_name}"
                column = existing(entity["columns"], column_name, "column", at)
                _merge_column(column, change, origin, at)
                if column_name == entity["key"] and not column.get("required", True):
                    raise _fail(origin, f"{at}.required", "the key column cannot be made optional", "true")
                if column_name == entity["key"] and column.get("default") is not None:
                    raise _fail(origin, f"{at}.default", "the key column cannot have a default", "no default")
                _check_column(column, origin, at)
            _check_aliases(entity["columns"], origin, f"sources.{source_name}.entities.{entity_name}")


def _merge_column(column: dict[str, Any], change: dict[str, Any], origin: Path, at: str) -> None:
    if "aliases" in change:
        column["aliases"] = list(change["aliases"])
    if "default" in change:
        column["default"] = change["default"]
    if "allowed" in change and "allowed_add" in change:
        raise _fail(origin, f"{at}.allowed_add", "allowed replaces the list, allowed_add adds to it", "one of them")
    if "allowed" in change:
        column["allowed"] = list(change["allowed"])
        column.pop("known", None)  # an open list becomes closed
    if "known" in change:
        if column.get("standard") is not None:
            closed = f"{column['standard']} is a closed list of codes"
            raise _fail(origin, f"{at}.known", closed, "allowed to narrow it")
        column["known"] = list(change["known"])
        column.pop("allowed", None)  # a closed list becomes open
    if "allowed_add" in change:
        added = list(change["allowed_add"])
        if column.get("standard") is not None and column.get("allowed") is None:
            column["allowed_extra"] = [*column.get("allowed_extra", []), *(v.upper() for v in added)]
        else:
            target = "allowed" if column.get("allowed") is not None else "known"
            if column.get(target) is None:
                raise _fail(
                    origin, f"{at}.allowed_add", "the column has no list of values to add to", "allowed (a closed list)"
                )
            column[target] = [*column[target], *(v for v in added if v not in column[target])]
    for bound in ("minimum", "maximum"):
        if bound in change:
            column[bound] = change[bound]
    if "required" in change:
        column["required"] = change["required"]
    for window in ("days_before_load", "days_after_load"):
        if window in change:
            column[window] = change[window]


# ------------------------------------------------------------------ building


def _build(document: dict[str, Any], origin: str) -> Contract:
    entities: list[Entity] = []
    descriptions: list[tuple[str, str]] = []
    for source_name, source in document["sources"].items():
        descriptions.append((source_name, source["description"]))
        for entity_name, entity in source["entities"].items():
            columns = tuple(
                Column(
                    name=name,
                    type=cast(ColumnType, column["type"]),
                    required=column.get("required", True),
                    description=column.get("description", ""),
                    allowed=_values(column.get("allowed"), upper=column.get("standard") is not None),
                    minimum=column.get("minimum"),
                    maximum=column.get("maximum"),
                    pii=column.get("pii", False),
                    free_text=column.get("free_text", False),
                    known=_values(column.get("known")),
                    standard=cast(Standard | None, column.get("standard")),
                    allowed_extra=tuple(column.get("allowed_extra", ())),
                    days_before_load=column.get("days_before_load", DAYS_BEFORE_LOAD),
                    days_after_load=column.get("days_after_load", DAYS_AFTER_LOAD),
                    aliases=tuple(column.get("aliases", ())),
                    default=column.get("default"),
                    not_before=column.get("not_before"),
                )
                for name, column in entity["columns"].items()
            )
            entities.append(
                Entity(
                    source=source_name,
                    name=entity_name,
                    file_format=cast(FileFormat, entity["format"]),
                    key=entity["key"],
                    columns=columns,
                    description=entity["description"],
                    event_column=entity.get("event_column"),
                    file=entity["file"],
                    optional=entity.get("optional", False),
                    timezone=source.get("timezone", "UTC"),
                    timestamp_formats=tuple(source.get("timestamp_formats", ())),
                    null_values=tuple(source.get("null_values", ())),
                    delimiter=source.get("delimiter", ","),
                    decimal_mark=source.get("decimal_mark", "."),
                    thousands_separator=source.get("thousands_separator"),
                )
            )
    return Contract(tuple(entities), tuple(descriptions), origin)


def _values(values: list[str] | None, upper: bool = False) -> tuple[str, ...] | None:
    """A list of values as a tuple; codes of a standard upper-cased."""
    if values is None:
        return None
    return tuple(v.upper() for v in values) if upper else tuple(values)


def read_contract(path: Path = CONTRACT_FILE, overrides: Path | None = None) -> Contract:
    """The contract in ``path``, with ``overrides`` (a YAML file of changes) merged over it.

    Raises :class:`ContractError` naming the file, the path inside it and what is expected.
    """
    document = _read_yaml(path)
    _validate(document, path, "contract")
    _check(document, path)
    origin = str(path)
    if overrides is not None:
        changes = _read_yaml(overrides)
        if changes is None:  # an empty file changes nothing
            changes = {"sources": {}}
        _validate(changes, overrides, "override")
        for source_name, source_change in changes.get("sources", {}).items():
            at = f"sources.{source_name}"
            if "timezone" in source_change:
                _check_timezone(source_change["timezone"], overrides, f"{at}.timezone")
            _check_formats(source_change.get("timestamp_formats", []), overrides, f"{at}.timestamp_formats")
        _merge(document, changes, overrides)
        origin = f"{path} with overrides {overrides}"
        _check(document, origin)
    return _build(document, origin)


def describe_rule(column: Column) -> str:
    """The column's values rule in words, for the documentation."""
    if column.standard == "iso3166-1-alpha-2" and column.allowed is None:
        text = f"{STANDARDS[column.standard]}; names and alpha-3 codes are converted, others load, counted"
        return text + (f" (also {', '.join(column.allowed_extra)})" if column.allowed_extra else "")
    if column.standard is not None:
        text = f"{STANDARDS[column.standard]}, upper-cased"
        if column.allowed is not None:
            text += ": " + ", ".join(column.allowed)
        return text + (f" (also {', '.join(column.allowed_extra)})" if column.allowed_extra else "")
    if column.known is not None:
        return "open: " + ", ".join(column.known) + ", … (others load, counted)"
    if column.allowed is not None:
        return ", ".join(column.allowed)
    return ""
