"""Render the per-source tables of data/README.md from contracts.SOURCES, so the doc can't drift.

`python -m orchestration.sample_world.contract_doc` prints the Markdown; a test checks that
data/README.md contains exactly this output.
"""

from __future__ import annotations

from orchestration.ingest.contracts import FILE_RULES, ROW_RULES, SOURCES, Column, Source

BEGIN = "<!-- BEGIN GENERATED: contract tables (orchestration/sample_world/contract_doc.py) -->"
END = "<!-- END GENERATED: contract tables -->"


def _rules(column: Column) -> str:
    rules = []
    if column.allowed:
        rules.append("one of " + ", ".join(f"`{v}`" for v in column.allowed))
    if column.non_negative:
        rules.append("≥ 0")
    if column.positive:
        rules.append("> 0")
    if column.not_in_future:
        rules.append("not in the future")
    if column.references:
        rules.append(f"must exist in `{column.references}`")
    return "; ".join(rules)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_source(source: Source) -> str:
    encodings = ", ".join(source.encodings)
    lines = [
        f"### `{source.name}`",
        "",
        _cell(source.description),
        "",
        f"- format: {source.format}; encodings accepted: {encodings}",
        f"- natural key: {', '.join(f'`{k}`' for k in source.natural_key)}",
    ]
    if source.depends_on:
        lines.append(f"- loaded after: {', '.join(f'`{d}`' for d in source.depends_on)}")
    lines += ["", "| column | type | required | rules | meaning |", "|---|---|---|---|---|"]
    for c in source.columns:
        required = "yes" if c.required else ""
        lines.append(
            f"| `{c.name}` | {c.type} | {required} | {_cell(_rules(c))} | {_cell(c.description)} |"
        )
    return "\n".join(lines)


def render_contract_markdown() -> str:
    """The generated block: every source's table and the list of quarantine reasons."""
    parts = [BEGIN, ""]
    for source in SOURCES:
        parts += [render_source(source), ""]
    parts += [
        "### Quarantine reasons",
        "",
        "Row rules, reported as `<rule>:<column>`: " + ", ".join(f"`{r}`" for r in ROW_RULES),
        "",
        "File rules, reported as `<rule>`: " + ", ".join(f"`{r}`" for r in FILE_RULES),
        "",
        END,
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_contract_markdown())
