"""An output folder the planner wrote is replaced by its next run into it, but never when it holds a
file the run reads: every input counts (the model, regions, sites, OD matrix, suppliers, a scenario
file, the further model files of ``compare``), not only some. And an ``--out`` the finished folder
cannot be moved onto (a mount point, or a move the file system refuses) is a one-line exit 2, not an
internal error, with the previous folder kept.

Each refusal happens before solving and is checked against a snapshot of the file tree."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from planner.export import folder as folder_module
from planner.export.folder import MARKER, write_manifest, write_marker
from tests.conftest import snapshot
from tests.test_cli_outputs import TWO_ROLES, assert_refused, instance, invoke

SCENARIOS = "scenario,region,product,demand,probability\nlow,1,standard,5,0.5\nhigh,1,standard,15,0.5\n"
SUPPLIERS = "supplier,lon,lat,material\ns1,0.5,0.0,steel\n"


def marked_out(tmp_path: Path) -> Path:
    """An output folder as a previous run left it (the marker file only)."""
    out = tmp_path / "out"
    out.mkdir()
    write_marker(out)
    return out


@pytest.mark.parametrize(("option", "name", "text"), [("--scenarios", "scenarios.csv", SCENARIOS),
                                                     ("--suppliers", "suppliers.csv", SUPPLIERS)])
def test_a_file_option_inside_out_is_refused_and_kept(tmp_path, option, name, text):
    model = instance(tmp_path)
    out = marked_out(tmp_path)
    (out / name).write_text(text)
    write_manifest(out)  # listed as the planner's: the input check, not the foreign-file check, refuses it
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", "--model", str(model), option, str(out / name), "--out", str(out), "--quiet"),
                   before, tmp_path, "an input of this run", name)


def test_a_further_model_of_compare_inside_out_is_refused_and_kept(tmp_path):
    model = instance(tmp_path, TWO_ROLES)
    out = marked_out(tmp_path)
    extra = out / "extra.toml"
    extra.write_text(model.read_text().replace('name = "tiny"', 'name = "extra"'))
    write_manifest(out)
    before = snapshot(tmp_path)
    assert_refused(invoke("compare", str(extra), "--model", str(model), "--out", str(out), "--quiet"), before,
                   tmp_path, "an input of this run", "extra.toml")


def test_a_mount_point_as_out_is_refused(tmp_path, monkeypatch):
    model = instance(tmp_path)
    out = tmp_path / "volume"
    out.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(folder_module.os.path, "ismount", lambda path: Path(path) == out or real(path))
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", "--model", str(model), "--out", str(out), "--quiet"), before, tmp_path,
                   "mount point", str(out / "results"))


@pytest.mark.slow
def test_a_refused_move_into_place_is_one_line_and_keeps_the_previous_folder(tmp_path, monkeypatch):
    model = instance(tmp_path)
    out = tmp_path / "out"
    assert invoke("solve", "--model", str(model), "--out", str(out), "--quiet").exit_code == 0
    previous = snapshot(out)

    def busy(source, target):
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))

    monkeypatch.setattr(folder_module.os, "replace", busy)
    result = invoke("solve", "--model", str(model), "--out", str(out), "--quiet")
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "cannot move the finished folder into place" in lines[0], result.stderr
    assert snapshot(out) == previous and (out / MARKER).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")], "staging left behind"


@pytest.mark.parametrize(("edit", "fragment"), [
    (lambda text: 'currency = "EUR"\n' + text, "its currency is EUR"),
    (lambda text: text.replace("regions.geojson", "other.geojson"), "compare works on one dataset"),
    (lambda text: text + '\n[objective]\nkind = "p_median"\np = 1\n', "works on the cost model"),
])
def test_a_further_model_compare_cannot_set_beside_the_others_is_refused(tmp_path, edit, fragment):
    model = instance(tmp_path, TWO_ROLES)
    (tmp_path / "other.geojson").write_bytes((tmp_path / "regions.geojson").read_bytes())
    extra = tmp_path / "extra.toml"
    extra.write_text(edit(model.read_text()))
    before = snapshot(tmp_path)
    assert_refused(invoke("compare", str(extra), "--model", str(model), "--out", str(tmp_path / "out"), "--quiet"),
                   before, tmp_path, "extra.toml", fragment)


def test_a_missing_further_model_of_compare_is_named_as_such(tmp_path):
    model = instance(tmp_path, TWO_ROLES)
    before = snapshot(tmp_path)
    assert_refused(invoke("compare", str(tmp_path / "nonexist.toml"), "--model", str(model), "--out",
                          str(tmp_path / "out"), "--quiet"), before, tmp_path, "no such model file", "further MODEL")


def test_a_further_model_of_other_products_is_compared_with_a_warning(tmp_path, caplog):
    """A further model planning other products than the --model's was compared without a word ("24 M
    USD/yr cheaper" against a model with a third product); its costs serve other demand, and compare says so."""
    from planner.cli.studies import _comparable
    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import DataOptions

    model = instance(tmp_path, TWO_ROLES)
    extra = tmp_path / "extra.toml"
    extra.write_text(model.read_text().replace("standard", "premium"))
    with caplog.at_level("WARNING", logger="planner"):
        _comparable(read_model_config(model), read_model_config(model), DataOptions())
        assert not caplog.records
        _comparable(read_model_config(extra), read_model_config(model), DataOptions())
    assert [record.getMessage() for record in caplog.records] == [
        f"compare: {extra} plans the products [premium] and the --model [standard]: its cost serves other demand, "
        "so the networks' costs do not compare like for like"]


def test_a_further_model_on_other_columns_of_the_same_file_names_the_key(tmp_path):
    """A further model reading another demand column of the same regions file was refused with "its [regions]
    (…/regions.geojson) differ from the --model's (…/regions.geojson)": the one path twice, the key that differs
    unnamed."""
    from planner.cli.studies import _comparable
    from planner.errors import InputError
    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import DataOptions

    model = instance(tmp_path, TWO_ROLES)
    extra = tmp_path / "extra.toml"
    extra.write_text(model.read_text().replace('demand_column = "pop"', 'demand_column = "pop2019"'))
    with pytest.raises(InputError) as caught:
        _comparable(read_model_config(extra), read_model_config(model), DataOptions())
    assert "regions.demand_column = 'pop2019' in it, 'pop' in the --model" in str(caught.value)
