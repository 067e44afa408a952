"""Write ``data/suppliers_us.csv``: the illustrative supplier file of ``models/local_premium.toml``.

20 supplier locations × 3 materials (60 rows). Locations: the population-weighted centres of 20 US
counties drawn with a fixed seed from the 300 most populous counties of ``us_counties.gpkg`` (so
suppliers sit where industry and people are, spread over the country). Prices and capacities are
round illustrative figures per material (steel and polymer by the kg, electronics by the set), each
supplier's price varied ±10 % with the same seed; capacities are of the order of one plant of each
kind (a steel service centre, a polymer compounder, a contract electronics maker), so that a large
central plant buys from one or a few suppliers per material.

Run from the project root: ``python data/make_suppliers.py`` (deterministic; rewrites the file).
"""

from pathlib import Path

import geopandas as gpd
import numpy as np

HERE = Path(__file__).resolve().parent
MATERIALS = {  # material: (price per unit, capacity per supplier per yr)
    "steel_kg": (0.90, 150_000_000.0),  # a steel service centre: ~150,000 t/yr
    "polymer_kg": (2.00, 40_000_000.0),  # a compounder: ~40,000 t/yr
    "electronics_set": (15.00, 3_000_000.0),  # a contract electronics maker: 3 M sets/yr
}


def main() -> None:
    counties = gpd.read_file(HERE / "us_counties.gpkg", layer="us_counties")
    largest = counties.sort_values("pop2020", ascending=False).head(300)
    rng = np.random.default_rng(2026)
    chosen = largest.iloc[np.sort(rng.choice(len(largest), size=20, replace=False))]
    rows = ["supplier_id,material,county,lon,lat,capacity_per_yr,cost_per_unit"]
    for number, county in enumerate(chosen.itertuples(index=False), start=1):
        for material, (price, capacity) in MATERIALS.items():
            varied = price * rng.uniform(0.9, 1.1)
            rows.append(f"S{number:02d}-{material},{material},{county.GEOID},{county.cenpop_lon:.5f},"
                        f"{county.cenpop_lat:.5f},{capacity:.0f},{varied:.3f}")
    (HERE / "suppliers_us.csv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
