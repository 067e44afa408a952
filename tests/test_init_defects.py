"""``planner init`` refuses what ``planner validate`` would refuse about the data, says one line when
the model file cannot be written, and never takes a coordinate column for the demand.

The data: five cities of eastern Australia as a table (id, name, lon, lat, pop)."""

from __future__ import annotations

import errno
import json
import os
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main

CITIES = {
    "id": ["SYD", "MEL", "BNE", "ADL", "CBR"],
    "name": ["Sydney", "Melbourne", "Brisbane", "Adelaide", "Canberra"],
    "lon": [151.21, 144.96, 153.03, 138.60, 149.13],
    "lat": [-33.87, -37.81, -27.47, -34.93, -35.28],
    "pop": [5_300_000, 5_100_000, 2_600_000, 1_400_000, 460_000],
}


def write_cities(folder: Path, name: str = "cities.csv", **changes) -> Path:
    path = folder / name
    pd.DataFrame({**CITIES, **changes}).to_csv(path, index=False)
    return path


def init(*args: str):
    return CliRunner().invoke(main, ["init", *args])


def error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    ("changes", "flags", "expected"),
    [
        ({}, ["--demand-column", "nope"], ["column 'nope' not found", "--demand-column"]),
        ({}, ["--id-column", "nope"], ["column 'nope' not found", "--id-column"]),
        ({"pop": ["5,300,000", "5,100,000", "2,600,000", "1,400,000", "460,000"]}, ["--demand-column", "pop"],
         ["column 'pop' is not a number in rows 1, 2, 3, 4, 5", "'5,300,000'"]),
        ({"id": ["SYD", "MEL", "SYD", "ADL", "CBR"]}, ["--id-column", "id"], ["column 'id' has duplicated ids SYD"]),
        ({"pop": [5_300_000, 5_100_000, -5, 1_400_000, 460_000]}, [], ["column 'pop' is negative in rows 3"]),
    ],
    ids=["missing-demand-column", "missing-id-column", "thousands-separators", "duplicate-ids", "negative-demand"],
)
def test_init_refuses_data_that_validate_refuses(tmp_path, changes, flags, expected):
    data = write_cities(tmp_path, **changes)
    out = tmp_path / "models" / "m.toml"
    line = error_line(init(str(data), *flags, "--out", str(out)))
    assert str(data) in line, line
    for text in expected:
        assert text in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cities.csv"]  # no model, staging file or folder


def test_init_writes_a_model_that_validates(tmp_path):
    data = write_cities(tmp_path)
    out = tmp_path / "m.toml"
    assert init(str(data), "--out", str(out)).exit_code == 0
    checked = CliRunner().invoke(main, ["validate", "--model", str(out)])
    assert checked.exit_code == 0, checked.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cities.csv", "m.toml"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # readable as any file the user writes


def test_init_into_a_path_under_a_file_says_one_line(tmp_path):
    data = write_cities(tmp_path)
    out = data / "m.toml"  # the "folder" is the data file
    line = error_line(init(str(data), "--out", str(out)))
    assert line == f"error: cannot write {out}: '{data}' is a file, not a folder; choose another --out"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cities.csv"]


def _raise(error_number: int, text: str):
    def failing(*args, **kwargs):
        raise OSError(error_number, text, str(args[0]) if args else None)

    return failing


@pytest.mark.parametrize(("target", "error_number", "text"), [
    ("planner.inputs.template.tempfile.mkstemp", errno.EROFS, "Read-only file system"),  # no staging file
    ("planner.inputs.template.os.fdopen", errno.ENOSPC, "No space left on device"),  # nor written
    ("planner.inputs.template.os.link", errno.EACCES, "Permission denied"),  # nor moved into place
])
def test_init_failing_to_write_says_one_line_and_leaves_nothing(tmp_path, monkeypatch, target, error_number, text):
    data = write_cities(tmp_path)
    out = tmp_path / "m.toml"
    monkeypatch.setattr(target, _raise(error_number, text))
    line = error_line(init(str(data), "--out", str(out), "--demand-rate", "0.01"))  # demand the sites can make
    assert line == f"error: cannot write {out}: {text}; choose another --out"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cities.csv"]


def model_regions(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))["regions"]


def test_init_takes_the_one_numeric_column_besides_the_coordinates(tmp_path):
    data = tmp_path / "jp.csv"
    pd.DataFrame({"コード": ["東京", "大阪", "名古屋"], "lon": [139.69, 135.50, 136.91], "lat": [35.69, 34.69, 35.18],
                  "人口": [14_000_000, 8_800_000, 2_300_000]}).to_csv(data, index=False)
    out = tmp_path / "jp.toml"
    result = init(str(data), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert model_regions(out)["demand_column"] == "人口"
    assert model_regions(out)["lon_column"] == "lon"


def test_init_takes_the_one_numeric_column_besides_given_coordinates(tmp_path):
    data = tmp_path / "xy.csv"
    pd.DataFrame({"easting": [151.2, 145.0], "northing": [-33.9, -37.8], "households": [10, 20]}).to_csv(data,
                                                                                                         index=False)
    out = tmp_path / "xy.toml"
    result = init(str(data), "--lon-column", "easting", "--lat-column", "northing", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert model_regions(out)["demand_column"] == "households"


def test_init_asks_for_the_demand_among_non_coordinate_columns(tmp_path):
    data = tmp_path / "two.csv"
    pd.DataFrame({"lon": [151.2, 145.0], "lat": [-33.9, -37.8], "a": [1, 2], "b": [3, 4]}).to_csv(data, index=False)
    line = error_line(init(str(data), "--out", str(tmp_path / "two.toml")))
    assert line.endswith("which column is the demand? name it with --demand-column (numeric columns: a, b)"), line


def test_init_vector_points_with_coordinate_attributes(tmp_path):
    frame = pd.DataFrame(CITIES).drop(columns=["id", "name"]).rename(columns={"pop": "residents"})
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    data = tmp_path / "cities.geojson"
    points.to_file(data, driver="GeoJSON")
    out = tmp_path / "g.toml"
    result = init(str(data), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert model_regions(out)["demand_column"] == "residents"


@pytest.mark.parametrize(("rate", "warned"), [(1.0, True), (0.01, False)], ids=["people-as-units", "scaled"])
def test_init_warns_when_the_default_facilities_cannot_make_the_demand(tmp_path, rate, warned):
    """14.9 M people at one unit each is more than the 5 candidate sites can make at their largest
    (5 × 2 M units/yr as central plants): a warning says so and names --demand-rate; at 0.01 it fits."""
    out = tmp_path / "m.toml"
    result = init(str(write_cities(tmp_path)), "--out", str(out), "--demand-rate", str(rate))
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert ("of it goes unmet whatever is built; scale the demand (the products' demand_rate; planner init "
            "--demand-rate)" in result.stderr) is warned, result.stderr


@pytest.mark.parametrize(("rate", "warned"), [(1e-6, True), (0.01, False)], ids=["tiny", "scaled"])
def test_init_warns_when_no_site_can_pay_for_itself(tmp_path, rate, warned):
    """15 units/yr in all (14.9 M people × 1e-6) cannot pay for any site's fixed cost at the unmet
    penalty: the warning says so, and the solved model indeed opens nothing and serves nothing."""
    out = tmp_path / "m.toml"
    result = init(str(write_cities(tmp_path)), "--out", str(out), "--demand-rate", str(rate))
    assert result.exit_code == 0, result.output
    assert ("too small for any candidate site to pay for itself" in result.stderr) is warned, result.stderr
    if warned:
        solved = CliRunner().invoke(main, ["solve", "--model", str(out), "--out", str(tmp_path / "o"), "--quiet"])
        assert solved.exit_code == 0, solved.output
        summary = json.loads((tmp_path / "o" / "summary.json").read_text())
        assert sum(summary["facilities"].values()) == 0, summary["facilities"]


def test_init_warns_when_the_margin_after_costs_pays_for_no_site(tmp_path):
    """20 stores within 10 km, 12,000 units/yr in all: the penalty alone (1.8 M a year) is above a
    microfactory's fixed cost (1.3 M), but less the cost to make each unit it is not; init had written the
    model without a word and the solve served nothing."""
    import numpy as np

    rng = np.random.default_rng(1)
    data = tmp_path / "stores.csv"
    pd.DataFrame({"id": range(20), "lon": rng.uniform(-80.05, -80.0, 20), "lat": rng.uniform(35.0, 35.05, 20),
                  "demand": [600] * 20}).to_csv(data, index=False)
    out = tmp_path / "m.toml"
    result = init(str(data), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "too small for any candidate site to pay for itself" in result.stderr, result.stderr
    solved = CliRunner().invoke(main, ["solve", "--model", str(out), "--out", str(tmp_path / "o"), "--quiet"])
    assert solved.exit_code == 0, solved.output
    assert sum(json.loads((tmp_path / "o" / "summary.json").read_text())["facilities"].values()) == 0


def test_a_warning_about_the_data_is_said_once(tmp_path, monkeypatch):
    """A duplicated id was warned about twice: once for the file as typed, once for the written model's
    check of it (by its absolute path), so the two lines differed and both were printed."""
    monkeypatch.chdir(tmp_path)
    write_cities(tmp_path, id=["SYD", "SYD", "BNE", "ADL", "CBR"])
    result = init("cities.csv", "--out", "model.toml")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "has duplicated values" in line]
    assert len(warned) == 1, result.stderr


@pytest.mark.parametrize("name", ["cities\nnew.csv", 'odd "quoted" \\ name.csv', "tab\tcities.csv"])
def test_init_writes_a_valid_model_for_a_file_name_with_control_characters(tmp_path, name):
    """A newline in the data file's name was written raw into a TOML string: init then refused its own
    model, naming its temporary file. Control characters are escaped, and the path reads back."""
    data = write_cities(tmp_path, name=name)
    out = tmp_path / "m.toml"
    result = init(str(data), "--out", str(out))
    assert result.exit_code == 0, result.output
    config = tomllib.loads(out.read_text(encoding="utf-8"))
    assert (out.parent / config["regions"]["path"]).resolve() == data.resolve()


def test_init_refuses_a_dangling_link_and_never_touches_a_file_of_a_staging_like_name(tmp_path):
    """A dangling link at --out is refused as solve --out refuses it; a user's '.m.toml.tmp' (and a link
    of that name to another file of theirs) stay as they were: the staging file has a name of its own."""
    data = write_cities(tmp_path)
    (tmp_path / "dangling.toml").symlink_to(tmp_path / "missing.toml")
    line = error_line(init(str(data), "--out", str(tmp_path / "dangling.toml")))
    assert line == (f"error: {tmp_path / 'dangling.toml'}: is a link; the planner does not overwrite it: choose "
                    "another --out or remove it")
    assert (tmp_path / "dangling.toml").is_symlink()
    (tmp_path / ".m.toml.tmp").write_text("notes")
    (tmp_path / "mine.txt").write_text("mine")
    (tmp_path / ".n.toml.tmp").symlink_to(tmp_path / "mine.txt")
    for name in ("m.toml", "n.toml"):
        assert init(str(data), "--out", str(tmp_path / name)).exit_code == 0
        assert not (tmp_path / name).is_symlink() and (tmp_path / name).read_text().startswith("#")
    assert (tmp_path / ".m.toml.tmp").read_text() == "notes" and (tmp_path / "mine.txt").read_text() == "mine"
    assert (tmp_path / ".n.toml.tmp").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".m.toml.tmp", ".n.toml.tmp", "cities.csv", "dangling.toml",
                                                          "m.toml", "mine.txt", "n.toml"]


def test_the_solve_line_of_init_can_be_pasted_with_spaces_in_the_path(tmp_path):
    """``--out "ünï côdé.toml"`` printed ``planner solve --model ünï côdé.toml``: pasted, "côdé.toml"
    became the regions file."""
    import shlex

    target = tmp_path / "ünï côdé.toml"
    result = init(str(write_cities(tmp_path)), "--out", str(target))
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("solve with")]
    assert shlex.split(line.removeprefix("solve with"))[-1] == str(target)


def test_kmeans_on_fewer_places_than_clusters_prints_no_library_warnings():
    """50 points at 2 places with init's kmeans = 30: SciPy's 'clusters is empty' and divide warnings had
    leaked to stderr on init, validate and solve."""
    import warnings

    import numpy as np

    from planner.inputs.candidates import nearest_to_centres

    lon = np.where(np.arange(50) % 2 == 0, 10.0, 11.0)
    lat = np.full(50, 45.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = nearest_to_centres(np.ones(50, dtype=bool), np.ones(50), lon, lat, 30)
    assert chosen.sum() == 2 and set(lon[chosen]) == {10.0, 11.0}


@pytest.mark.parametrize("command", ["validate", "solve"])
def test_solve_and_validate_warn_when_no_site_can_pay_for_itself(tmp_path, command):
    """Five towns of a few thousand people on the bundled model (0.01 units/yr per person: 150 units/yr in
    all) pay for no site's fixed cost: init warned of it, a solve of the same data served 0 % without a
    word, and validate passed it as it was."""
    data = write_cities(tmp_path, pop=[5_000, 4_000, 3_000, 2_000, 1_000])
    extra = ["--out", str(tmp_path / "o"), "--quiet"] if command == "solve" else []
    result = CliRunner().invoke(main, [command, str(data), *extra])
    assert result.exit_code == 0, result.output
    assert "too small for any candidate site to pay for itself" in result.stderr, result.stderr
    if command == "solve":
        assert sum(json.loads((tmp_path / "o" / "summary.json").read_text())["facilities"].values()) == 0


def test_no_pay_warning_where_a_service_level_makes_sites_open(tmp_path):
    """A service level makes sites open whatever they cost: the same small demand is not warned about."""
    data = write_cities(tmp_path, pop=[5_000, 4_000, 3_000, 2_000, 1_000])
    root = Path(__file__).resolve().parents[1]
    text = (root / "models" / "hybrid.toml").read_text(encoding="utf-8")
    model = tmp_path / "served.toml"
    model.write_text(text.replace("[products.standard]\n", "[products.standard]\nservice = { min_share_within = 0.5, "
                                  "within_km = 3000 }\n", 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(data), "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "too small for any candidate site to pay for itself" not in result.stderr, result.stderr
