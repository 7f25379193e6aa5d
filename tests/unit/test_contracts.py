import pytest

from cxpipe.contracts import ENTITIES, SOURCES, ContractError, entities_of


def test_every_source_has_entities_with_a_required_key() -> None:
    for source in SOURCES:
        for entity in entities_of(source):
            assert entity.key in entity.required_columns or entity.column(entity.key).pii
            assert len(set(entity.column_names)) == len(entity.column_names)


def test_unknown_source_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="expected one of sales, crm, surveys, social"):
        entities_of("billing")


def test_unknown_column_lookup_names_the_entity() -> None:
    with pytest.raises(KeyError, match=r"sales\.orders has no column 'colour'"):
        ENTITIES[0].column("colour")


def test_contract_error_tells_what_to_do() -> None:
    error = ContractError("landing/x.csv", "column y missing", "Add it.")
    assert str(error) == "landing/x.csv: column y missing. Add it."


def test_docs_contracts_md_matches_the_code() -> None:
    from cxpipe.contracts import render_markdown
    from cxpipe.settings import REPO_ROOT

    assert (REPO_ROOT / "docs" / "contracts.md").read_text(encoding="utf-8") == render_markdown(), (
        "docs/contracts.md is stale: run `uv run cxpipe contracts > docs/contracts.md`"
    )


def test_markdown_lists_every_column_with_its_rules() -> None:
    from cxpipe.contracts import render_markdown

    text = render_markdown()
    for entity in ENTITIES:
        assert f"## {entity.source}.{entity.name}" in text
        for column in entity.columns:
            assert f"| `{column.name}` |" in text
    assert "| `nps` | integer | no | 0 … 10 |" in text
    assert "| `currency` | string | yes | ISO 4217 currency code, upper-cased |" in text
    assert (
        "| `status` | string | yes | open: placed, delivered, cancelled, returned, … (others load, counted) |" in text
    )
    assert "| `kind` | string | yes | post, review |" in text
    assert "| `order_total` | number | yes | -1e+07 … 1e+07 |" in text  # credit notes are negative
    assert "| `ordered_at` | timestamp | yes | load date −3660 … +1 days |" in text
    assert "dbt_project/contracts/sources.yml" in text and "CX_CONTRACT_OVERRIDES" in text


def test_dbt_sources_yaml_mirrors_every_contract_column_by_column() -> None:
    import yaml

    from cxpipe.contracts import DBT_DATA_TYPES, LAKE_COLUMNS
    from cxpipe.settings import REPO_ROOT

    path = REPO_ROOT / "dbt_project" / "models" / "staging" / "_sources.yml"
    sources = {s["name"]: s for s in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]}
    assert sorted(sources) == sorted(SOURCES)
    for source in SOURCES:
        tables = {t["name"]: t for t in sources[source]["tables"]}
        assert sorted(tables) == sorted(e.name for e in entities_of(source)), source
        for entity in entities_of(source):
            columns = [(c["name"], c.get("data_type")) for c in tables[entity.name]["columns"]]
            expected = [(c.name, DBT_DATA_TYPES[c.type]) for c in entity.columns]
            expected += [(name, data_type) for name, data_type, _ in LAKE_COLUMNS]
            assert columns == expected, (
                f"{path.name}: {source}.{entity.name} differs from the contract; "
                "run `uv run cxpipe contracts --format dbt > dbt_project/models/staging/_sources.yml`"
            )
