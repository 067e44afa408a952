"""The static map: one figure written as PNG, SVG and PDF; remote groups of regions found by
single-linkage clustering and drawn as insets; user text escaped in the SVG.

The tiny layers: 0.2° square regions on the equator, a "west" group at longitudes 0, 0.5 and 1
(about 56 km apart) and, for the two-group case, an "east" group at longitudes 60 and 60.5
(about 6,600 km further east). One site per group, flows from each site to the regions of its group
and one flow from the west site to an east region. One region is named like a script.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from planner.errors import InputError
from planner.export.static_map import build_map_figure, draw_map, draw_maps
from planner.inputs.geo import find_clusters, median_lonlat, region_clusters

SCRIPT_NAME = "<script>alert(1)</script>"
TYPES = ("plant", "micro")
WEST = [0.0, 0.5, 1.0]
EAST = [60.0, 60.5]


def layers(longitudes: list[float], site_longitudes: list[float]):
    """Regions (served by the type of their nearest site, the last one unmet), sites and flows."""
    n = len(longitudes)
    served = [TYPES[int(np.argmin([abs(x - s) for s in site_longitudes]))] for x in longitudes]
    served[-1] = "unmet"
    regions = gpd.GeoDataFrame(
        {
            "region_id": [f"R{i}" for i in range(n)],
            "region_name": [SCRIPT_NAME if i == 1 else f"Region {i}" for i in range(n)],
            "demand": [100.0 + 10 * i for i in range(n)],
            "served_by": served,
        },
        geometry=[box(x - 0.1, -0.1, x + 0.1, 0.1) for x in longitudes],
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"S{j}" for j in range(len(site_longitudes))],
            "facility_type": [TYPES[j % 2] for j in range(len(site_longitudes))],
            "capacity": [1000.0, np.inf][: len(site_longitudes)],
            "production": [300.0, 120.0][: len(site_longitudes)],
        },
        geometry=[Point(x, 0.0) for x in site_longitudes],
        crs="EPSG:4326",
    )
    pairs = [(int(np.argmin([abs(x - s) for s in site_longitudes])), i) for i, x in enumerate(longitudes[:-1])]
    if len(site_longitudes) > 1:
        pairs.append((0, n - 2))  # west site to an east region: crosses between panels
    flows = gpd.GeoDataFrame(
        {
            "site_id": [f"S{s}" for s, _ in pairs],
            "region_id": [f"R{r}" for _, r in pairs],
            "quantity": [50.0 + 5 * k for k in range(len(pairs))],
        },
        geometry=[LineString([(site_longitudes[s], 0.0), (longitudes[r], 0.0)]) for s, r in pairs],
        crs="EPSG:4326",
    )
    return regions, sites, flows


@pytest.fixture(scope="module")
def one_group():
    return layers(WEST, [0.0])


@pytest.fixture(scope="module")
def two_groups():
    return layers(WEST + EAST, [0.0, 60.25])


@pytest.fixture(scope="module")
def written(tmp_path_factory, two_groups):
    folder = tmp_path_factory.mktemp("map")
    return draw_maps(*two_groups, TYPES, f"title with {SCRIPT_NAME} & more", folder)


def test_draw_maps_writes_png_svg_pdf_from_one_call(written):
    assert [path.name for path in written] == ["map.png", "map.svg", "map.pdf"]
    png, svg, pdf = (path.read_bytes() for path in written)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert b"<svg" in svg[:2000]
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_draw_map_keeps_the_single_path_call(tmp_path, one_group):
    target = tmp_path / "map.png"
    assert draw_map(*one_group, TYPES, "one group", target) == [target]
    assert target.read_bytes().startswith(b"\x89PNG")


def test_svg_escapes_user_text(written):
    svg = written[1]
    root = ET.parse(svg).getroot()  # raises if a name or the title broke the XML
    assert root.tag.endswith("svg")
    assert not [element for element in root.iter() if element.tag.lower().endswith("script")]
    assert "<script" not in svg.read_text(encoding="utf-8")


def test_find_clusters_keeps_a_compact_set_together():
    lon = [0.0, 0.3, 0.6, 0.9, 0.2, 0.5]
    lat = [0.0, 0.1, 0.0, 0.2, 0.4, 0.5]
    assert find_clusters(lon, lat).tolist() == [0] * 6


def test_find_clusters_splits_two_far_groups_main_by_weight():
    lon = WEST + EAST
    lat = [0.0] * 5
    assert find_clusters(lon, lat, [1, 1, 1, 1, 1]).tolist() == [0, 0, 0, 1, 1]
    assert find_clusters(lon, lat, [1, 1, 1, 50, 50]).tolist() == [1, 1, 1, 0, 0]  # most demand: main


def test_find_clusters_across_the_antimeridian_is_one_group():
    lon, lat = [179.6, 179.9, -179.8, -179.5], [0.0, 0.2, 0.0, 0.1]
    assert find_clusters(lon, lat).tolist() == [0, 0, 0, 0]
    centre, _ = median_lonlat(lon, lat)
    assert abs(abs(centre) - 180.0) < 0.5


def test_region_clusters_and_insets(one_group, two_groups):
    assert region_clusters(one_group[0]).tolist() == [0, 0, 0]
    assert region_clusters(two_groups[0]).tolist() == [0, 0, 0, 1, 1]
    assert len(build_map_figure(*one_group, TYPES, "one").axes) == 1
    assert len(build_map_figure(*two_groups, TYPES, "two").axes) == 2  # main panel and one inset


def test_main_panel_has_a_scale_bar_in_round_km(one_group):
    figure = build_map_figure(*one_group, TYPES, "scale")
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert any(re.fullmatch(r"(1|2|5)(0|,000)* km", label) for label in labels), labels


def test_unknown_suffix_and_missing_crs_are_input_errors(tmp_path, one_group):
    with pytest.raises(InputError, match=r"\.png, \.svg, \.pdf"):
        draw_map(*one_group, TYPES, "t", tmp_path / "map.jpg")
    regions, sites, flows = one_group
    with pytest.raises(InputError, match="no CRS"):
        build_map_figure(regions.set_crs(None, allow_override=True), sites, flows, TYPES, "t")
    assert not any(Path(tmp_path).iterdir())


def test_the_region_legend_lists_only_what_the_map_shows():
    """No unmet region and no region served by the central type: neither is in the legend; a region
    without demand adds "no demand"; maps drawn alike (regions None) list every class."""
    from planner.export.static_map import _region_handles

    regions = pd.DataFrame({"served_by": ["micro", "micro", ""]})
    assert [h.get_label() for h in _region_handles(("central", "micro"), regions)] == ["micro", "no demand"]
    every = [h.get_label() for h in _region_handles(("central", "micro"), None)]
    assert every == ["central", "micro", "unmet"]


def test_a_panel_of_one_place_spans_at_least_the_minimum_view():
    """One site (or regions at one place) framed a panel 1 m wide: its scale bar read 0.0001 km."""
    from planner.export.static_map import MIN_VIEW_M, padded_view

    xmin, ymin, xmax, ymax = padded_view((100.0, 200.0, 100.0, 200.0), 0.025)
    assert xmax - xmin == ymax - ymin == MIN_VIEW_M * 1.05
    assert (xmin + xmax) / 2 == 100.0 and (ymin + ymax) / 2 == 200.0
    wide = padded_view((0.0, 0.0, 1e6, 2e5), 0.025)  # larger than the minimum: padded as before
    assert wide == (-0.025e6, -0.025e6, 1.025e6, 2e5 + 0.025e6)


@pytest.mark.parametrize("type_name", ["micro ($$)", "micro $1M-$2M"])
def test_dollar_signs_in_names_are_drawn_as_written(type_name):
    """'$' is a dollar sign in a type name and a title, not the start of Matplotlib's maths (``$$`` had
    failed the whole run with a ParseException)."""
    from planner.export.charts import png_bytes

    regions, sites, flows = layers(WEST, [0.0])
    regions["served_by"] = regions["served_by"].replace(TYPES[0], type_name)
    sites["facility_type"] = type_name
    figure = build_map_figure(regions, sites, flows, (type_name, TYPES[1]), f"{type_name} network")
    assert png_bytes(figure).startswith(b"\x89PNG")
    texts = [text for text in figure.findobj(lambda artist: hasattr(artist, "get_parse_math"))
             if type_name in text.get_text()]
    assert texts and not any(text.get_parse_math() for text in texts)


def test_the_caption_of_a_tall_narrow_map_wraps_within_the_figure():
    """Chile-like data (a narrow strip 35° tall) makes a narrow figure: its caption wraps instead of running
    past the right edge, and it stays below the map."""
    latitudes = [-18.5, -23.6, -29.9, -33.5, -36.8, -41.5, -53.2]
    regions = gpd.GeoDataFrame({"region_id": [f"R{i}" for i in range(7)], "demand": [10.0] * 7,
                                "served_by": [TYPES[0]] * 7},
                               geometry=[Point(-70.5, lat) for lat in latitudes], crs="EPSG:4326")
    sites = gpd.GeoDataFrame({"site_id": ["S0"], "facility_type": [TYPES[0]], "capacity": [100.0],
                              "production": [70.0]}, geometry=[Point(-70.6, -33.5)], crs="EPSG:4326")
    flows = gpd.GeoDataFrame({"site_id": ["S0"], "region_id": ["R0"], "quantity": [10.0]},
                             geometry=[LineString([(-70.6, -33.5), (-70.5, -18.5)])], crs="EPSG:4326")
    figure = build_map_figure(regions, sites, flows, TYPES, "Chile")
    renderer = figure.canvas.get_renderer()
    caption = next(text for text in figure.texts if text.get_text().startswith("Lambert"))
    box = caption.get_window_extent(renderer)
    assert "\n" in caption.get_text()
    assert box.x1 <= figure.bbox.width
    assert box.y1 <= min(ax.get_window_extent(renderer).y0 for ax in figure.axes) + 1


def test_the_scale_bar_never_hides_a_point_region():
    """Five Norwegian cities as points: Stavanger, in the corner the scale bar takes first, had been hidden
    under it (a point took one cell of the grid, below the share a scale bar may hide)."""
    from planner.export.static_map import _layout, _make_panels, _map_layers

    cities = {"OSL": (10.75, 59.91), "BGO": (5.32, 60.39), "TOS": (18.95, 69.65), "TRD": (10.39, 63.43),
              "SVG": (5.73, 58.97)}
    regions = gpd.GeoDataFrame({"region_id": list(cities), "demand": [1.0] * 5, "served_by": [TYPES[0]] * 5},
                               geometry=[Point(xy) for xy in cities.values()], crs="EPSG:4326")
    sites = gpd.GeoDataFrame({"site_id": ["S0"], "facility_type": [TYPES[0]], "capacity": [10.0],
                              "production": [5.0]}, geometry=[Point(10.75, 59.91)], crs="EPSG:4326")
    flows = gpd.GeoDataFrame({"site_id": [], "region_id": [], "quantity": []}, geometry=[], crs="EPSG:4326")
    regions, sites, flows, _ = _map_layers(regions, sites, flows)
    panels = _make_panels(regions, sites, flows, TYPES)
    layout = _layout(panels, sites, 3.0)
    xmin, ymin, xmax, ymax = layout.main_view
    x0, y0, w, h = layout.scale_bar
    points = panels[0].regions.geometry
    fx, fy = (points.x - xmin) / (xmax - xmin), (points.y - ymin) / (ymax - ymin)
    margin = 0.02  # a marker's half width, about
    under = (fx > x0 - margin) & (fx < x0 + w + margin) & (fy > y0 - margin) & (fy < y0 + h + margin)
    assert not under.any(), list(panels[0].regions.loc[under.to_numpy(), "region_id"])


def test_the_grid_the_scale_bar_and_insets_avoid_holds_the_flow_lines():
    """A flow runs where no region or site is (a long delivery over the sea): its cells count as drawn, so
    the scale bar is not put over it."""
    from planner.export.static_map import _layout, _make_panels, _map_layers, _occupancy, _symbols

    regions, sites, flows = layers(WEST, [0.0])
    regions, sites, flows, _ = _map_layers(regions, sites, flows)
    panels = _make_panels(regions, sites, flows, TYPES)
    symbols = _symbols(sites, flows, TYPES, None)
    view = _layout(panels, sites, 3.0).main_view
    without = _occupancy(panels[0], sites, view)
    with_flows = _occupancy(panels[0], sites, view, flows=symbols.flows)
    assert with_flows.sum() > without.sum() and (with_flows | without).sum() == with_flows.sum()


def test_the_grid_is_every_cell_that_a_region_site_or_flow_line_intersects():
    """The cells found by binning vertices, then testing the rest, are those a test of every cell finds."""
    import shapely

    from planner.export.static_map import _layout, _make_panels, _map_layers, _occupancy, _symbols, in_panel_crs

    regions, sites, flows = layers(WEST, [0.0])
    regions, sites, flows, _ = _map_layers(regions, sites, flows)
    panels = _make_panels(regions, sites, flows, TYPES)
    symbols = _symbols(sites, flows, TYPES, None)
    xmin, ymin, xmax, ymax = view = _layout(panels, sites, 3.0).main_view
    grid = _occupancy(panels[0], sites, view, columns=40, flows=symbols.flows)
    rows, columns = grid.shape
    xs, ys = np.linspace(xmin, xmax, columns + 1), np.linspace(ymin, ymax, rows + 1)
    cells = [shapely.box(xs[c], ys[r], xs[c + 1], ys[r + 1]) for r in range(rows) for c in range(columns)]
    radius = 1.5 * (xs[1] - xs[0])
    site_points = sites.iloc[panels[0].site_rows].to_crs(panels[0].crs).geometry
    lines = in_panel_crs(symbols.flows.iloc[panels[0].flow_rows], panels[0].crs).geometry
    drawn = [*panels[0].regions.geometry, *(point.buffer(radius) for point in site_points), *lines]
    expected = np.array([any(cell.intersects(geom) for geom in drawn) for cell in cells]).reshape(rows, columns)
    assert len(lines) and np.array_equal(grid, expected)


def test_a_cell_holds_the_vertices_on_its_edges_and_none_outside_the_grid():
    from shapely.geometry import LineString

    from planner.export.static_map import _holding_a_vertex

    edges = np.array([0.0, 1.0, 2.0])
    line = LineString([(1.0, 0.5), (5.0, 0.5), (0.5, -3.0), (0.5, 1.5)])  # an edge, outside, outside, row 1
    assert _holding_a_vertex(np.array([line]), edges, edges).tolist() == [False, True, True, False]


def test_the_grid_the_scale_bar_avoids_holds_the_suppliers_and_inbound_lines():
    """A supplier with its inbound lines where no region, site or flow is: a scale bar had covered it."""
    from shapely.geometry import LineString

    from planner.export.static_map import _layout, _make_panels, _map_layers, _occupancy, _supply_symbols

    regions, sites, flows = layers(WEST, [0.0])
    regions, sites, flows, _ = _map_layers(regions, sites, flows)
    panels = _make_panels(regions, sites, flows, TYPES)
    view = _layout(panels, sites, 3.0).main_view
    corner = gpd.GeoSeries([Point(view[0], view[3])], crs=panels[0].crs).to_crs("EPSG:4326").iloc[0]
    site = sites.to_crs("EPSG:4326").geometry.iloc[0]
    suppliers = gpd.GeoDataFrame({"supplier_id": ["J"], "material": ["steel"], "shipped": [5.0]},
                                 geometry=[corner], crs="EPSG:4326")
    inbound = gpd.GeoDataFrame({"supplier_id": ["J"], "material": ["steel"], "quantity": [5.0]},
                               geometry=[LineString([corner, site])], crs="EPSG:4326")
    supply = _supply_symbols(suppliers, inbound)
    without = _occupancy(panels[0], sites, view)
    with_supply = _occupancy(panels[0], sites, view, supply=supply)
    assert with_supply[-1, 0] and not without[-1, 0]  # the top-left cell: the supplier


def test_dollar_signs_in_category_labels_made_while_saving_are_drawn_as_written():
    """The report's demand chart puts the product names on a category axis whose labels after the first
    are made when the figure is saved: 'x ($$)' there had failed the run."""
    from planner.export.charts import png_bytes
    from planner.export.report import demand_chart

    demand = {name: {"demand": 10.0, "served": 8.0, "unmet": 2.0} for name in ("standard", "x ($$)", "$1M-$2M")}
    assert png_bytes(demand_chart(demand)).startswith(b"\x89PNG")


def test_the_grid_buffers_only_the_regions_drawn_as_markers(monkeypatch):
    """Polygons are drawn as they are: buffering them too (and then dropping the result) had taken 16 s of
    the 3,142 counties' write phase in single C calls, during which Ctrl-C waited."""
    import shapely

    from planner.export.static_map import _layout, _make_panels, _map_layers, _occupancy

    regions, sites, flows = layers(WEST, [0.0])
    regions, sites, flows, _ = _map_layers(regions, sites, flows)
    panels = _make_panels(regions, sites, flows, TYPES)
    view = _layout(panels, sites, 3.0).main_view
    buffered_areas = []
    real_buffer = shapely.buffer

    def recording_buffer(geometry, *args, **kwargs):
        buffered_areas.extend(np.atleast_1d(shapely.area(geometry)).tolist())
        return real_buffer(geometry, *args, **kwargs)

    monkeypatch.setattr(shapely, "buffer", recording_buffer)
    grid = _occupancy(panels[0], sites, view)
    assert grid.any() and buffered_areas and max(buffered_areas) == 0.0  # the site's point only


def test_insets_only_for_a_few_far_away_regions():
    """Three heavy regions and nine light islands far away: the islands had filled one tiny inset while the
    main panel showed the three; where the other groups hold as many regions as the main one, one panel."""
    from planner.export.static_map import panel_groups
    from planner.inputs.geo import find_clusters

    lon = [178.4, 177.4, 179.3, -179.9, -175.2, -171.8, -170.7, 174.8, 174.8, 172.6, 166.4, 168.3]
    lat = [-18.1, -17.6, -16.4, -18.2, -21.1, -13.8, -14.3, -36.8, -41.3, -43.5, -22.3, -17.7]
    weights = [93000, 52000, 28000, 10000, 23000, 37000, 11000, 1600000, 420000, 380000, 94000, 51000]
    assert find_clusters(lon, lat, weights).max() > 0  # far apart: the groups are found
    assert (panel_groups(find_clusters(lon, lat, weights)) == 0).all()
    labels = np.array([0] * 30 + [1] * 3 + [2])  # Alaska and Hawaii beside the lower 48
    assert panel_groups(labels).tolist() == labels.tolist()


def test_the_largest_legend_value_is_near_the_largest_symbol():
    """A site of 40,000 units/yr had 20,000 as the largest circle of the legend (1, 2 or 5 × 10^k below it)."""
    from planner.export.static_map import _references

    assert _references(40_000.0, (1.0, 0.3, 0.05)) == [40_000.0, 10_000.0, 2_000.0]
    assert _references(43_210.0, (1.0, 0.3)) == [43_000.0, 10_000.0]
    assert _references(0.0123, (1.0,)) == [pytest.approx(0.012)]
    assert _references(0.0, (1.0, 0.3)) == []


@pytest.mark.parametrize("words, size, lines", [(3, 13.0, 1), (7, None, 1), (12, 9.0, 2)])
def test_the_title_stays_within_the_figure_however_long(one_group, words, size, lines):
    """A title with two service levels ran past both edges of the PNG (13 pt, never wrapped): it shrinks
    (down to 9 pt), then wraps, and every line lies within the figure."""
    from matplotlib.backends.backend_agg import RendererAgg

    title = " ".join(f"standard_product{i}: 99.2%" for i in range(words))
    fig = build_map_figure(*one_group, TYPES, title)
    renderer = RendererAgg(fig.get_figwidth() * 150, fig.get_figheight() * 150, 150)
    shown = next(text for text in fig.texts if text.get_text().replace("\n", " ") == title)
    extent = shown.get_window_extent(renderer, dpi=150)
    assert extent.x0 >= 0 and extent.x1 <= fig.get_figwidth() * 150 and extent.y1 <= fig.get_figheight() * 150
    assert shown.get_text().count("\n") + 1 == lines
    assert shown.get_fontsize() == size if size is not None else 9.0 < shown.get_fontsize() < 13.0


def test_regions_that_are_lines_or_collections_are_drawn():
    """A region that is a line, and one that is a polygon with a stray line (a GeometryCollection), had
    been left out of map.png (only polygons and points were drawn)."""
    from matplotlib.collections import LineCollection, PathCollection
    from shapely.geometry import GeometryCollection

    regions, sites, flows = layers(WEST, [0.0])
    regions = regions.copy()
    regions.loc[1, "geometry"] = LineString([(0.4, -0.1), (0.6, 0.1)])
    regions.loc[2, "geometry"] = GeometryCollection([box(0.9, -0.1, 1.1, 0.1), LineString([(1.1, 0.1), (1.2, 0.2)])])
    figure = build_map_figure(regions, sites, flows, TYPES, "lines")
    main = figure.axes[0]
    filled = sum(len(c.get_paths()) for c in main.collections if type(c) is PathCollection and c.get_zorder() == 1)
    lines = [c for c in main.collections if isinstance(c, LineCollection) and c.get_linewidths()[0] == 1.5]
    assert filled == 2  # the square and the collection's polygon
    assert lines and sum(len(c.get_segments()) for c in lines) == 2  # the line region and the stray line


def test_regions_round_the_whole_world_keep_their_areas_on_the_map():
    """A grid of 30° cells over the globe (and a few small regions in Europe): the azimuthal projection about the
    data's centre had stretched the cell at its antipode round the rim of the map and across it (drawn many
    times its area over the others); an equal-area world projection, cells split at the meridian opposite the
    centre, keeps each cell's area, and a flow across that meridian is not drawn across the whole map."""
    import shapely

    from planner.export.static_map import _make_panels, in_panel_crs, regions_for_map

    cells = [box(x, y, x + 30, y + 30) for x in range(-180, 180, 30) for y in range(-90, 90, 30)]
    cells += [box(x, 45.0, x + 2, 47.0) for x in range(10, 22, 2)]
    regions = gpd.GeoDataFrame({"region_id": [f"C{i}" for i in range(len(cells))], "demand": 100.0,
                                "served_by": "plant"}, geometry=shapely.segmentize(cells, 1.0), crs="EPSG:4326")
    sites = gpd.GeoDataFrame({"site_id": ["S0"], "facility_type": ["plant"], "capacity": [1e3],
                              "production": [1e2]}, geometry=[Point(10.0, 10.0)], crs="EPSG:4326")
    flows = sites[["site_id"]].assign(region_id="C0", quantity=1.0).set_geometry(
        [LineString([(10.0, 10.0), (40.0, 10.0)])], crs="EPSG:4326")
    (panel,) = _make_panels(regions, sites, flows, TYPES)
    true_area = regions.to_crs("+proj=cea +datum=WGS84 +units=m").area.to_numpy()
    assert panel.regions.area.to_numpy() == pytest.approx(true_area, rel=0.01)
    assert regions_for_map(regions)[1].area.to_numpy() == pytest.approx(true_area, rel=0.01)  # compare's map
    opposite = panel.centre[0] - 180.0  # a short flow across the meridian opposite the centre
    across = flows.set_geometry([LineString([(opposite - 5.0, 10.0), (opposite + 5.0, 10.0)])], crs="EPSG:4326")
    line = in_panel_crs(across, panel.crs).geometry.iloc[0]
    assert len(line.geoms) == 2 and line.length < (panel.view[2] - panel.view[0]) / 20


def test_regions_that_touch_no_other_are_simplified_alone_and_neighbours_as_a_coverage():
    """Every region went through the coverage simplification, about 100× slower than Douglas-Peucker: 5,000
    buffered points of 2,000 vertices (touching nothing) spent 48 s of the map's 58 s in it. Neighbours keep
    their shared border exactly; an isolated disc is simplified alone, to the same tolerance."""
    import shapely

    from planner.export.static_map import _simplified

    def jagged(x0: float) -> np.ndarray:  # a border of 400 vertices from (x0, 0) to (x0, 10)
        y = np.linspace(0.0, 10.0, 400)
        return np.c_[x0 + 0.01 * np.sin(y * 40), y]

    border = jagged(10.0)
    left = shapely.Polygon(np.r_[[[0.0, 0.0]], border, [[0.0, 10.0]]])
    right = shapely.Polygon(np.r_[border, [[20.0, 10.0], [20.0, 0.0]]])
    disc = Point(50.0, 5.0).buffer(4.0, quad_segs=500)
    geoms = np.array([left, right, disc], dtype=object)
    simplified = _simplified(geoms, 0.1)
    assert shapely.equals_exact(simplified[:2], shapely.coverage_simplify(geoms[:2], 0.1), 0).all()
    assert shapely.equals_exact(simplified[2], shapely.simplify(disc, 0.1, preserve_topology=False), 0)
    assert shapely.get_num_coordinates(simplified).sum() < shapely.get_num_coordinates(geoms).sum() / 10
    assert shapely.intersection(simplified[0], simplified[1]).area == pytest.approx(0.0, abs=1e-9)


def test_a_map_whose_flows_are_all_0_km_has_no_flow_legend(one_group):
    """Every site serving only the region it stands in draws no line; the legend had still explained line
    widths ("Flows: line width ∝ volume, 100,000 units/yr") beside a map without lines."""
    regions, sites, flows = one_group

    def legend_titles(figure) -> list[str]:
        return [legend.get_title().get_text() for legend in figure.legends]

    assert "Flows: line width ∝ volume" in legend_titles(build_map_figure(regions, sites, flows, TYPES, "lines"))
    at_home = flows.iloc[:1].set_geometry([LineString([(0.0, 0.0), (0.0, 0.0)])], crs="EPSG:4326")
    titles = legend_titles(build_map_figure(regions, sites, at_home, TYPES, "0 km"))
    assert "Flows: line width ∝ volume" not in titles and "Sites: facility type" in titles


def test_maps_drawn_alike_name_the_regions_without_demand(one_group):
    """A rollout's first period (demand only in its pilot regions) drew most regions grey, the legend of maps
    drawn alike listing the types and unmet only."""
    regions, sites, flows = one_group

    def region_labels(figure) -> list[str]:
        legend = next(lg for lg in figure.legends if lg.get_title().get_text() == "Regions: mainly served by")
        return [text.get_text() for text in legend.get_texts()]

    pilot = regions.assign(served_by=["no demand", *regions["served_by"].iloc[1:]])
    assert region_labels(build_map_figure(pilot, sites, flows, TYPES, "p1", alike=[(sites, flows)])) == [
        "plant", "unmet", "no demand"]
    assert region_labels(build_map_figure(regions, sites, flows, TYPES, "p2", alike=[(sites, flows)])) == [
        "plant", "unmet"]


def test_maps_drawn_alike_key_the_types_open_in_one_of_them(one_group, two_groups):
    """Maps drawn alike (compare's variants, a rollout's periods) keyed every facility type as a region fill,
    central plants too where none of the maps opens one (30 towns of Europe served by microfactories alone)."""
    regions, sites, flows = one_group

    def region_labels(figure) -> list[str]:
        legend = next(lg for lg in figure.legends if lg.get_title().get_text() == "Regions: mainly served by")
        return [text.get_text() for text in legend.get_texts()]

    assert set(sites["facility_type"]) == {"plant"}
    assert region_labels(build_map_figure(regions, sites, flows, TYPES, "a", alike=[(sites, flows)])) == [
        "plant", "unmet"]
    _, other_sites, other_flows = two_groups  # a plant and a micro: the other map opens a micro
    assert region_labels(build_map_figure(regions, sites, flows, TYPES, "b", alike=[(other_sites, other_flows)])) == [
        "plant", "micro", "unmet"]


def test_an_inset_names_the_group_it_shows(two_groups):
    """Insets of overseas towns (Réunion, the Antilles, Guyane) had no word of which group each was: each now names
    its region of most demand and counts the others, inside its frame."""
    figure = build_map_figure(*two_groups, TYPES, "two")
    inset = figure.axes[1]
    texts = [text.get_text() for text in inset.texts]
    assert "Region 4 and 1 more region" in texts  # the eastern pair: Region 4 has the most demand (140)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    label = next(text for text in inset.texts if text.get_text() == "Region 4 and 1 more region")
    frame, box = inset.get_window_extent(renderer), label.get_window_extent(renderer)
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
