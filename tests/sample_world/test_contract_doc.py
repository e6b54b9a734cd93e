from pathlib import Path

from orchestration.sample_world.contract_doc import render_contract_markdown

README = Path(__file__).resolve().parents[2] / "data" / "README.md"


def test_data_readme_contains_the_current_contract_tables():
    assert render_contract_markdown() in README.read_text(encoding="utf-8"), (
        "data/README.md is stale: paste `python -m orchestration.sample_world.contract_doc`"
    )
