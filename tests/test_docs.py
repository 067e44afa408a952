"""Docs drift: the model-file reference agrees with the schema, the bundled models validate, and the
data folder documents every file it holds.

``models/README.md`` has one section per schema class, headed ``## ... — schema class `Name```,
whose first table has the columns ``key | unit | default | meaning``. A default cell is a Python
literal in backticks (``None``, ``1.0``, ``"GEOID"``, ``False``), ``required`` (no default) or
```{}``` (a sub-table whose keys all take their defaults).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

import planner.inputs.config
from planner.inputs.config import read_model_config

CHECKOUT = Path(__file__).resolve().parent.parent
MODELS_README = CHECKOUT / "models" / "README.md"
DATA_README = CHECKOUT / "data" / "README.md"

HEADING = re.compile(r"^#+ .*schema class `(\w+)`\s*$")
TABLE_HEADER = ["key", "unit", "default", "meaning"]
REQUIRED = "required"
SUB_TABLE = "{}"


def schema_classes() -> dict[str, type[BaseModel]]:
    """Every pydantic model defined in planner/inputs/config.py except the private base."""
    return {
        name: cls
        for name, cls in inspect.getmembers(planner.inputs.config, inspect.isclass)
        if issubclass(cls, BaseModel) and cls.__module__ == planner.inputs.config.__name__ and not name.startswith("_")
    }


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def documented_defaults(text: str) -> dict[str, dict[str, str]]:
    """{class name: {key: default cell}} from the first key/unit/default/meaning table of each section."""
    sections: dict[str, dict[str, str]] = {}
    current: str | None = None
    in_table = False
    for line in text.splitlines():
        heading = HEADING.match(line)
        if heading:
            current, in_table = heading.group(1), False
            assert current not in sections, f"models/README.md: two sections for schema class {current}"
            continue
        if line.startswith("#"):
            current, in_table = None, False
            continue
        if current is None:
            continue
        if not line.startswith("|"):
            if in_table:  # the table ended: later tables of the section are not defaults tables
                current, in_table = None, False
            continue
        row = cells(line)
        if row == TABLE_HEADER:
            in_table = True
            sections[current] = {}
        elif in_table and not set(line) <= set("|-: "):
            assert len(row) == 4, f"models/README.md: section {current}: row is not key|unit|default|meaning: {line}"
            key = row[0].strip("`")
            assert key not in sections[current], f"models/README.md: {current}.{key} documented twice"
            sections[current][key] = row[2]
    return sections


def parse_default(cell: str) -> object:
    if cell == REQUIRED:
        return PydanticUndefined
    assert cell.startswith("`") and cell.endswith("`"), f"default {cell!r} is neither `literal` nor required"
    return ast.literal_eval(cell.strip("`"))


@pytest.fixture(scope="module")
def documented() -> dict[str, dict[str, str]]:
    return documented_defaults(MODELS_README.read_text(encoding="utf-8"))


def test_every_schema_class_has_a_defaults_table(documented):
    missing = sorted(set(schema_classes()) - set(documented))
    unknown = sorted(set(documented) - set(schema_classes()))
    assert not missing, f"models/README.md has no defaults table for schema classes {missing}"
    assert not unknown, f"models/README.md has sections for classes not in planner/inputs/config.py: {unknown}"


@pytest.mark.parametrize("class_name", sorted(schema_classes()))
def test_documented_keys_are_the_schema_fields(documented, class_name):
    schema = schema_classes()[class_name]
    keys = set(documented.get(class_name, {}))
    undocumented = sorted(set(schema.model_fields) - keys)
    unknown = sorted(keys - set(schema.model_fields))
    assert not undocumented, f"{class_name}: fields missing from models/README.md: {undocumented}"
    assert not unknown, f"{class_name}: models/README.md documents keys the schema lacks: {unknown}"


@pytest.mark.parametrize("class_name", sorted(schema_classes()))
def test_documented_defaults_match_the_schema(documented, class_name):
    schema = schema_classes()[class_name]
    for key, cell in documented.get(class_name, {}).items():
        if key not in schema.model_fields:
            continue  # reported by test_documented_keys_are_the_schema_fields
        field = schema.model_fields[key]
        value = parse_default(cell)
        where = f"{class_name}.{key}: documented {cell}"
        if field.default_factory is not None:
            # a sub-table: {} documented, and the factory gives that table with every key at its default
            assert value == {}, f"{where}, but the schema builds it with a default_factory; document `{{}}`"
            if field.annotation is dict or getattr(field.annotation, "__origin__", None) is dict:
                assert field.default_factory() == {}, where  # a table of tables, empty by default
            else:
                assert field.default_factory() == field.annotation.model_validate({}), where
        elif field.is_required():
            assert value is PydanticUndefined, f"{where}, but the schema requires it; document {REQUIRED}"
        else:
            assert value is not PydanticUndefined, f"{where}, but the schema default is {field.default!r}"
            assert type(value) is type(field.default) and value == field.default, (
                f"{where}, but the schema default is {field.default!r}"
            )


def test_parser_reads_a_known_row():
    text = (
        "## `[x]` — schema class `X`\n\n"
        "| key | unit | default | meaning |\n|---|---|---|---|\n| `a` | km | `1.5` | m |\n\n"
        "| key | unit | default | meaning |\n|---|---|---|---|\n| `b` | km | `2.0` | a later table, not defaults |\n"
    )
    assert documented_defaults(text) == {"X": {"a": "`1.5`"}}
    assert parse_default("`1e-4`") == 0.0001
    assert parse_default("required") is PydanticUndefined


@pytest.mark.parametrize("model_file", sorted((CHECKOUT / "models").glob("*.toml")), ids=lambda p: p.name)
def test_bundled_model_files_validate(model_file):
    config = read_model_config(model_file)
    assert config.regions.path is not None and config.regions.path.is_file(), config.regions.path


def test_bundled_models_are_listed_in_the_readme():
    text = MODELS_README.read_text(encoding="utf-8")
    for model_file in sorted((CHECKOUT / "models").glob("*.toml")):
        assert f"`{model_file.name}`" in text, f"models/README.md does not mention {model_file.name}"


def test_data_readme_mentions_every_data_file():
    text = DATA_README.read_text(encoding="utf-8")
    files = sorted(p.name for p in (CHECKOUT / "data").iterdir() if p.is_file() and p.name != "README.md")
    assert files, "data/ holds no data file"
    missing = [name for name in files if f"`{name}`" not in text]
    assert not missing, f"data/README.md does not mention {missing}; add each with its source and licence"


def test_the_readme_bench_example_runs_from_a_clone(monkeypatch):
    """The README's `planner bench` example named ../shared, outside the repository: it failed on a fresh
    clone ("file not found"). It reads data/benchmarks now, and every instance matches its published optimum."""
    import json
    import shlex

    from click.testing import CliRunner

    from planner.cli import main

    readme = (CHECKOUT / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("planner bench cap "))
    words = shlex.split(command)[1:]
    monkeypatch.chdir(CHECKOUT)
    files = [str(path.relative_to(CHECKOUT)) for word in words if "*" in word for path in sorted(CHECKOUT.glob(word))]
    arguments = [word for word in words if "*" not in word]
    result = CliRunner().invoke(main, [*arguments[:2], *files, *arguments[2:], "--threads", "1"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 4 and all(line["match"] and line["status"] == "optimal" for line in lines)


def test_the_readmes_python_example_runs(tmp_path, monkeypatch):
    """The "From Python" section's code, run as written on a points file with the columns it names."""
    import numpy as np
    import pandas as pd

    readme = (CHECKOUT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## From Python"):]
    code = section[section.index("```python\n") + len("```python\n"):]
    code = code[:code.index("```")]
    rng = np.random.default_rng(3)
    pd.DataFrame({
        "store_id": [f"S{i}" for i in range(24)], "lon": rng.uniform(6, 16, 24), "lat": rng.uniform(46, 54, 24),
        "demand": rng.integers(2_000, 40_000, 24), "country": ["DE", "AT", "CH"] * 8,
    }).to_csv(tmp_path / "my_stores.csv", index=False)
    monkeypatch.chdir(tmp_path)
    code = code.replace('"models/hybrid.toml"', repr(str(CHECKOUT / "models" / "hybrid.toml")))
    namespace: dict = {}
    exec(compile(code, "README.md (From Python)", "exec"), namespace)
    run = namespace["run"]
    assert run.audit.passed and set(run.tables.flows["region_id"]) <= {f"S{i}" for i in range(24) if i % 3 != 2}
    assert (tmp_path / "out" / "my_stores" / "summary.json").is_file()


def test_the_bundled_regions_hold_no_text_encoded_twice():
    """'DoÃ±a Ana' (UTF-8 read as Latin-1 and stored again) had been the NAME of county 35013 in maps, reports
    and --select: every text column of the bundled regions is clean."""
    import geopandas as gpd

    regions = gpd.read_file(CHECKOUT / "data" / "us_counties.gpkg", ignore_geometry=True)
    text = regions.select_dtypes(include=["object", "string"]).astype(str)
    twice = text.apply(lambda column: column.str.contains("[ÃÂ][\u0080-\u00bf]", regex=True))
    assert not twice.to_numpy().any(), text[twice.any(axis=1)].to_dict("records")
    assert regions.loc[regions["GEOID"] == "35013", "NAME"].tolist() == ["Doña Ana"]
