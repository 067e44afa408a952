"""A user's own files the planner had not been tried on: a compressed OD matrix with semicolons, a GeoJSON in
metres without a CRS member, a KML file whose placemarks have names but no ids; each read as meant or refused in
one line naming the file and the fix."""

import bz2
import gzip
import lzma

import pytest

from planner.inputs.io import read_od_matrix

OD_ROWS = "from;to;distance_km;minutes\nS1;R1;12;20\nS1;R2;30;45\n"


@pytest.mark.parametrize(("suffix", "compress"), [(".gz", gzip.compress), (".bz2", bz2.compress),
                                                  (".xz", lzma.compress)])
def test_a_compressed_od_matrix_with_semicolons_is_read(tmp_path, suffix, compress):
    """'od.csv.gz' written with ';' had been "column 'from' not found ...; available: from;to;distance_km;minutes":
    the separator was sniffed from the compressed bytes, which pandas then decompressed and split on ','."""
    path = tmp_path / f"od.csv{suffix}"
    path.write_bytes(compress(OD_ROWS.encode("utf-8")))
    table = read_od_matrix(path)
    assert list(table.columns) == ["from", "to", "distance_km", "minutes"]
    assert table["distance_km"].tolist() == [12.0, 30.0]
    assert table["to"].tolist() == ["R1", "R2"]


def test_a_compressed_utf16_od_matrix_is_read(tmp_path):
    """Excel's "Unicode Text" (UTF-16, tabs), gzip-compressed: its encoding is read from the decompressed bytes."""
    path = tmp_path / "od.txt.gz"
    path.write_bytes(gzip.compress("from\tto\tdistance_km\nS1\tR1\t12\n".encode("utf-16")))
    assert read_od_matrix(path)["distance_km"].tolist() == [12.0]
