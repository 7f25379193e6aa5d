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
    from cxpipe.config import REPO_ROOT
    from cxpipe.contracts import render_markdown

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
