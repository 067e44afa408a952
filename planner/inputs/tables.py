"""Reading tables: CSV and text (their encoding, separator and dialect probed once per version),
Excel workbooks and Parquet; files checked before they are read; the columns a table must have, and
hints where they are missing. Every failure is an :class:`InputError` naming the file, the row or
column and the fix."""

from __future__ import annotations

import bz2
import csv
import datetime
import functools
import gzip
import io
import logging
import lzma
import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputError, has_control_characters, refuse_special_file, truncated
from planner.formats.tokens import WIDE_SAMPLE, wide_encoding

logger = logging.getLogger(__name__)

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}  # the first sheet, read by openpyxl

UNREAD_SPREADSHEETS = {".xls", ".ods", ".numbers"}  # refused with the fix: save as .xlsx or CSV

FIRST_SHEET = "planner_first_sheet"  # DataFrame.attrs key: the sheets of a workbook read by its first

REGIONS_SHEET = "planner_regions_sheet"  # DataFrame.attrs key: a table of regions, whose sheet --layer chooses

TABLE_SUFFIXES = {".csv", ".tsv", ".txt", *EXCEL_SUFFIXES}

PARQUET_SUFFIXES = {".parquet", ".geoparquet"}

COMPRESSED_SUFFIXES = {".gz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tgz"}  # not read; a .zip is

# read as the vector file inside: a KMZ is a zip of its doc.kml, whose typed fields GDAL reads only from the .kml
ZIPPED_SUFFIXES = {".zip", ".kmz"}

ZIPPED_VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".fgb", ".gml", ".kml"}  # found inside a .zip

def check_file(path: Path, what: str, option: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {what} file not found; pass an existing file to {option}")
    refuse_special_file(path, f"the {what} file", option)  # /dev/zero filled the memory, a FIFO hung
    if path.suffix.lower() in UNREAD_SPREADSHEETS:
        raise InputError(f"{path}: {path.suffix} spreadsheets are not read; save the sheet as .xlsx or CSV and pass "
                         f"that to {option}")
    if path.is_dir() and path.suffix.lower() not in {".gdb", ".parquet"}:
        raise InputError(f"{path}: is a folder, not {'an' if what[:1].lower() in 'aeio' else 'a'} {what} file; "
                         f"pass a file to {option}{_files_in(path)}")
    if not os.access(path, os.R_OK):  # not a format problem: 'give a CSV, Excel or Parquet file' had been the fix
        raise InputError(f"{path}: the {what} file is not readable (permission denied); give this user read access "
                         f"or pass another file to {option}")
    if path.is_file() and path.stat().st_size == 0:  # pandas had said "No columns to parse from file"
        raise InputError(f"{path}: the {what} file is empty (0 bytes); pass a file that holds the data to {option}")
    return path

def _files_in(folder: Path) -> str:
    """": the vector file in it is cb/a.shp" (or the files, up to 4) for a folder passed as a data file, else ''."""
    try:
        inside = sorted(p for p in folder.iterdir() if p.suffix.lower() in ZIPPED_VECTOR_SUFFIXES | TABLE_SUFFIXES
                        and p.suffix.lower() not in {".txt", ".json"} and p.is_file())
    except OSError:
        return ""
    if not inside:
        return ""
    if len(inside) == 1:
        return f": the {'table' if is_table(inside[0]) else 'vector file'} in it is {inside[0]}"
    return f": the files in it are {truncated([str(p) for p in inside], 4)}"

def is_table(path: Path) -> bool:
    """A CSV/TSV file, or a Parquet file without GeoParquet geometry metadata."""
    suffix = Path(path).suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return True
    if suffix in PARQUET_SUFFIXES and Path(path).is_file():
        import pyarrow.parquet as pq

        try:
            return b"geo" not in (pq.read_schema(path).metadata or {})
        except Exception:
            return False
    return False

SEPARATORS = ",;\t| "  # the separators a table may use, sniffed from its first lines in this order of preference

SNIFF_BYTES = 64 * 1024

# the compressions pandas reads a table in by its suffix, each opened so for the sniffing of its separator and encoding
DECOMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

def open_bytes(path: Path):
    """The bytes of ``path`` as pandas reads them: decompressed where its suffix is one of ``DECOMPRESSED``, or the
    one file of a .zip (the separator and encoding of an OD matrix 'od.csv.gz' had been sniffed from its compressed
    bytes, and its semicolons then read as one column 'from;to;distance_km')."""
    if Path(path).suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = [name for name in archive.namelist() if not name.endswith("/")]
                if len(names) == 1:  # pandas reads that one; it stays open after the archive's close
                    return archive.open(names[0])
        except zipfile.BadZipFile:
            pass  # the reader says what is wrong
    return DECOMPRESSED.get(Path(path).suffix.lower(), open)(path, "rb")

def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    """``path`` as text in ``encoding`` (:func:`open_bytes`; bytes not in it replaced, line ends kept)."""
    return io.TextIOWrapper(open_bytes(path), encoding=encoding, errors="replace", newline="")

def table_suffix(path: Path) -> str:
    """The suffix of a table's format, inside its compression: '.tsv' for 'od.tsv.gz'."""
    path = Path(path)
    return Path(path.stem).suffix.lower() if path.suffix.lower() in {*DECOMPRESSED, ".zip"} else path.suffix.lower()

def text_encoding(path: Path) -> str:
    """The encoding a text table is read in: UTF-16 or UTF-32 where its first bytes say so (a byte-order mark,
    or the NUL bytes of ASCII text in those encodings: ``planner.formats.tokens.wide_encoding``, as for the
    benchmark files; Excel's "Unicode Text" is tab-separated UTF-16 and was refused as "not UTF-8"), else
    UTF-8 (a byte-order mark allowed)."""
    try:
        with open_bytes(path) as file:
            start = file.read(WIDE_SAMPLE)
    except OSError:
        return "utf-8-sig"
    return wide_encoding(start) or "utf-8-sig"

def csv_dialect(path: Path) -> dict:
    """``pd.read_csv`` options of every table the planner reads: tab for .tsv, else the separator sniffed
    among ``SEPARATORS`` (a comma where none fits: a table of one column, whose header must not be split
    on one of its own letters), UTF-8 (a byte-order mark allowed) or, after their byte-order mark, UTF-16
    and UTF-32 (:func:`text_encoding`). pandas' C reader (a one-character separator is all it needs; 9×
    faster than the Python reader on a 4-million-row OD matrix; pandas ≥ 3 parses numbers exactly as
    Python does)."""
    path = Path(path)
    try:
        state = path.stat()
    except OSError:
        return _dialect(path)  # the reader says what is wrong
    if state.st_size < DIALECT_CACHE_MIN_BYTES:  # cheap to probe again; a small file rewritten within the
        return _dialect(path)  # clock's tick at the same size would otherwise keep its old dialect
    return dict(_dialect_of_version(path, state.st_size, state.st_mtime_ns, state.st_ino))  # a copy to add to

DIALECT_CACHE_MIN_BYTES = 1_000_000

@functools.lru_cache(maxsize=16)
def _dialect_of_version(path: Path, size: int, mtime_ns: int, inode: int) -> tuple:
    """:func:`_dialect` once per version of a file: a table is read by several steps (the reader, the header
    checks, the warnings), and the check of a separator left at the end of every row reads a whole column
    (0.3 s on a 2-million-row OD matrix)."""
    return tuple(_dialect(path).items())

def _dialect(path: Path) -> dict:
    options = {"sep": "\t" if table_suffix(path) == ".tsv" else sniffed_separator(path), "engine": "c",
               "encoding": text_encoding(path)}
    hinted = _excel_separator_line(path)
    if hinted is not None:  # Excel's "sep=;" line: the separator, then the header
        options |= {"sep": hinted, "skiprows": 1}
    return options | _extra_field_options(path, options)

def _excel_separator_line(path: Path) -> str | None:
    """The separator a first line ``sep=;`` names (Excel writes and reads one), else None."""
    try:
        with open_text(path, text_encoding(path)) as file:
            first = file.readline(16).rstrip("\r\n")
    except OSError:
        return None
    match = re.fullmatch(r"sep=(.)", first)
    return match.group(1) if match else None

EXTRA_FIELD_PROBE_ROWS = 50

def _extra_field_options(path: Path, options: dict) -> dict:
    """Where the data rows have one field more than the header, pandas takes the first column for an index
    and shifts every column by one (ids read as names, '12,345' as 345): an empty last field in each row (a
    separator left at the end of the line) is left out (``usecols``); anything else is refused, naming
    the first such line."""
    try:
        probe = pd.read_csv(path, nrows=EXTRA_FIELD_PROBE_ROWS, dtype=str, keep_default_na=False, **options)
    except (ValueError, OSError, UnicodeDecodeError, csv.Error):
        return {}  # the reader itself says what is wrong
    if isinstance(probe.index, pd.RangeIndex) or not len(probe.columns):
        return {}
    width = len(probe.columns)
    if probe.index.nlevels > 1:  # several fields more than the header: pandas made them a MultiIndex
        _refuse_a_short_header(path, options, width, width + probe.index.nlevels)
    if (probe.iloc[:, -1].str.strip() == "").all():
        _refuse_a_later_extra_field(path, options, width)
        return {"usecols": range(width)}  # the header's fields (index_col=False warned on every read)
    skipped = options.get("skiprows", 0)
    with open_text(path, options["encoding"]) as file:
        for _ in range(1 + skipped):
            file.readline()
        line = file.readline().rstrip("\r\n")
    cause = ("a number written with a thousands separator (12,345) or a separator too many? write numbers "
             "without separators (or quote them)")
    if list(probe.index.astype(str)) == [str(n) for n in range(1, len(probe) + 1)]:  # R's write.table, maybe
        cause += "; row names before each row (R's write.table)? write them with row.names = FALSE"
    raise InputError(f"{path}: the rows have {width + 1} fields and the header {width} (line {2 + skipped}: "
                     f"{line[:80]!r}); {cause}, and give every row as many fields as the header")

def _refuse_a_short_header(path: Path, options: dict, width: int, fields: int) -> None:
    """The data rows have several fields more than the header: a title or comment line above it ('# exported
    2024') was taken for the header (the reader had failed with pandas' own words on a MultiIndex)."""
    skipped = options.get("skiprows", 0)
    with open_text(path, options["encoding"]) as file:
        for _ in range(skipped):
            file.readline()
        line = file.readline().rstrip("\r\n")
    raise InputError(f"{path}: the rows have {fields} fields and the header {width} (line {1 + skipped}: "
                     f"{line[:80]!r}); a title or comment line above the header? remove it, so that the file "
                     "starts with the header, and give every row as many fields as the header")

def _refuse_a_later_extra_field(path: Path, options: dict, width: int) -> None:
    """Every row ends in a separator (an empty field after the header's): refuse where one further down holds a
    value there (the first rows alone had been looked at, and '12,345' in row 61 was read as 12)."""
    skipped = options.get("skiprows", 0)
    extra = pd.read_csv(path, **(options | {"header": None, "skiprows": 1 + skipped, "usecols": [width],
                                            "dtype": str, "keep_default_na": False}))
    filled = np.flatnonzero(extra.iloc[:, 0].fillna("").str.strip().to_numpy() != "")
    if len(filled):
        raise InputError(f"{path}: data row {int(filled[0]) + 1:,} has more fields than the header's {width} "
                         f"(its value {extra.iloc[filled[0], 0]!r} after them); a number written with a thousands "
                         "separator (12,345) or a separator too many? write numbers without separators (or quote "
                         "them)")

def sniffed_separator(path: Path) -> str:
    """The separator of the CSV at ``path`` among ``SEPARATORS``: the first that splits the header and every
    line of the sample into as many cells (quotes respected; the data rows may have one more, an empty field
    after a separator left at their end), else the one ``csv.Sniffer`` guesses, else ','.
    The sniffer alone took a space for the separator of a comma table whose quoted cells have spaces
    around them (``" A ",8,48``)."""
    try:
        with open_text(path, text_encoding(path)) as file:
            sample = file.read(SNIFF_BYTES)
        if len(sample) == SNIFF_BYTES and "\n" in sample:
            sample = sample[: sample.rindex("\n")]  # whole lines only
        for separator in SEPARATORS.strip():
            header, *rows = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=separator) if row] or [0]
            widths = set(rows) or {header}
            # the data rows may end in a separator the header lacks (see _extra_field_options)
            if len(widths) == 1 and header > 1 and widths.pop() in (header, header + 1):
                return separator
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except (OSError, csv.Error):
        return ","

def header_stripped(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with spaces around its column names removed (a header written ``id, units`` names
    ``units``; a vector file's field ' GEOID' names 'GEOID'), unless two names would then be the same."""
    names = [str(column).strip() if isinstance(column, str) else column for column in table.columns]
    if names != list(table.columns) and len(set(names)) == len(names):
        table.columns = names
    return table

def read_table(path: Path, what: str, option: str, text_columns: Iterable[str] = (), codes: bool = False,
               sheet: str | None = None) -> pd.DataFrame:
    """A CSV (comma, semicolon or tab, sniffed; tab for .tsv), or a Parquet file, as a plain table.

    CSV columns named in ``text_columns`` (case-insensitive) are read as text, so ids such as ZIP or
    FIPS codes keep their leading zeros ('02134' stays '02134', '7' stays '7'); with ``codes``, so is
    any other column of whole numbers written with a leading zero in some row (:func:`zero_padded`:
    a FIPS column named 'fips'). Only empty cells are missing: a word such as 'n/a' is kept as
    written, so the checks can quote it."""
    path = check_file(path, what, option)
    try:
        table = _read_table_file(path, text_columns, codes, sheet)
    except InputError:
        raise
    except UnicodeDecodeError as error:
        encoding = text_encoding(path)
        if encoding != "utf-8-sig":  # its byte-order mark said so, but the rest is not
            raise InputError(f"{path}: not {encoding.upper()} text, as its first bytes say ({error.reason}); "
                             "save it as UTF-8") from None
        raise InputError(f"{path}: not UTF-8 text ({_where_not_utf8(path, error)}); save it as UTF-8") from None
    except pd.errors.EmptyDataError:  # spaces and blank lines only: "No columns to parse from file"
        raise InputError(f"{path}: holds no header and no rows (only blank lines or spaces); pass the file that holds "
                         f"the data to {option}") from None
    except pd.errors.ParserError as error:  # pandas' tokenizer: a row's field count, a quote never closed
        raise InputError(f"{path}: {parser_fault(str(error))}") from None
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if path.suffix.lower() in EXCEL_SUFFIXES and "engine manually" in reason:  # pandas cannot tell what it is
            raise InputError(f"{path}: is not an Excel workbook, whatever its name says; save it from the "
                             "spreadsheet as .xlsx, or as CSV") from None
        raise InputError(f"{path}: cannot read as a table ({reason}); give a CSV, Excel or Parquet file") from None
    _refuse_control_characters_in_header(path, table)
    return table

def _read_table_file(path: Path, text_columns: Iterable[str], codes: bool, sheet: str | None) -> pd.DataFrame:
    """The table of :func:`read_table`, its faults raised as the libraries raise them."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return pd.read_parquet(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _refuse_a_title_row(path, _read_excel(path, text_columns, codes, sheet))
    options = csv_dialect(path) | {"keep_default_na": False, "na_values": [""]}
    refuse_repeated_columns(path, pd.read_csv(path, nrows=1, header=None, dtype=str, **options))
    wanted = {str(column).lower() for column in text_columns if column}
    header = pd.read_csv(path, nrows=0, **options).columns if wanted else []
    dtype = {column: str for column in header if str(column).strip().lower() in wanted}
    table = _without_empty_rows(path, pd.read_csv(path, dtype=dtype or None, **options))
    table = _refuse_a_title_row(path, table)
    return header_stripped(_with_codes_as_text(path, table, options) if codes else table)

FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")

OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")

def parser_fault(message: str) -> str:
    """pandas' tokenizer error as what is wrong in the file and the fix (it had ended in "give a CSV, Excel or
    Parquet file", for a CSV file with one field too many in a row)."""
    if (found := FIELD_COUNT.search(message)) is not None:
        expected, line, saw = found.groups()
        return (f"line {line} has {saw} fields and the header {expected}; a number written with a thousands "
                "separator (12,345) or a separator too many? write numbers without separators (or quote them), "
                "and give every row as many fields as the header")
    if (found := OPEN_QUOTE.search(message)) is not None:
        return (f"a quote (\") opened in line {int(found.group(1)) + 1:,} is never closed (a file cut short?); "
                "close the quote, or give the whole file")
    return f"cannot read as a table ({message.splitlines()[0] if message else 'no reason given'}); save it as CSV again"

def _refuse_control_characters_in_header(path: Path, table: pd.DataFrame) -> None:
    """A column name holding a control character (a NUL byte of a damaged file: 'cost_mult\\x00iplier') is
    refused: it matched no column the planner reads, so the column was silently left out."""
    for column in table.columns:
        if isinstance(column, str) and has_control_characters(column):
            raise InputError(f"{path}: the header's column {ascii(column)} holds a control character (a damaged file "
                             "or not text?); write the column's name in plain text")

BLANK_HEADER = re.compile(r"Unnamed: \d+")  # pandas' name for a column whose header cell is blank

HEADER_PROBE_ROWS = 5  # the rows under a header looked at for the real header below it

def _refuse_a_title_row(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    """``table``, unless its header has blank cells and is a title or group labels above the real header: one
    filled cell beside blank ones (a spreadsheet's merged title row, 'North Carolina counties,,,'), or a row of
    the first few below it is all words, none a number ('id,name,lon,lat' under 'Identity,,Location,'). It had
    been read as the column names, the error then listing 'Unnamed: 1', 'Unnamed: 2' as the file's columns."""
    names = [str(column) for column in table.columns]
    named = [name for name in names if not BLANK_HEADER.fullmatch(name)]
    if len(names) < 2 or len(named) == len(names) or (not named and table.empty):
        return table
    probe = table.head(HEADER_PROBE_ROWS).astype(str).apply(lambda column: column.str.strip())
    filled = table.head(HEADER_PROBE_ROWS).notna() & (probe != "")
    words = filled & probe.apply(lambda column: pd.to_numeric(column, errors="coerce").isna())
    if not named:  # a table below blank rows (and right of blank columns): its header is the first row of words
        rows = np.flatnonzero(((words == filled).all(axis=1) & (filled.sum(axis=1) > 1)).to_numpy())
        if not len(rows):
            return table
        header = truncated(probe.iloc[rows[0]][filled.iloc[rows[0]]].tolist(), 6)
        raise InputError(f"{path}: the first row is blank, which is read as the header (the header looks like row "
                         f"{int(rows[0]) + 2}: {header}); remove the blank rows and columns above and left of the "
                         "table, so that the file starts with its header in the first column")
    rows = np.flatnonzero(words.all(axis=1).to_numpy())
    if len(named) > 1 and not len(rows):
        return table
    header = (f" (the header looks like row {int(rows[0]) + 2}: {truncated(probe.iloc[rows[0]].tolist(), 4)})"
              if len(rows) else "")
    raise InputError(f"{path}: the first row holds only {truncated([repr(name) for name in named], 4)} beside blank "
                     f"cells, which is read as the header{header}; a title or group labels above the header? remove "
                     "the rows above the header, so that the file starts with it")

def _where_not_utf8(path: Path, error: UnicodeDecodeError) -> str:
    """The reason and the line of the file's first byte that is not UTF-8 (pandas' offset counts from the
    chunk it read: "at byte 47050" named plain text in line 1,026 of a 2 MB file whose bad byte was in line
    45,002)."""
    try:
        with open_bytes(path) as file:
            data = file.read()
        data.decode("utf-8")
    except UnicodeDecodeError as whole:
        line = data.count(b"\n", 0, whole.start) + 1
        return f"{whole.reason} in line {line:,}, byte {whole.start:,}"
    except OSError:
        pass
    return error.reason

def _without_empty_rows(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without the empty rows (every cell blank) it ends with, as a spreadsheet's export ends
    with ``,,,`` rows; logged. An empty row between filled ones stays, and the checks name it: the
    errors number rows by their place in the table, which leaving out only the last rows keeps right."""
    filled = np.flatnonzero(~table.isna().all(axis=1).to_numpy())
    last = int(filled[-1]) + 1 if len(filled) else 0
    if last == len(table):
        return table
    logger.info("%s: the %d empty rows (every cell blank) it ends with are left out", path, len(table) - last)
    return table.iloc[:last]

def zero_padded(values: pd.Series) -> bool:
    """Text of digits only with a leading zero in some row ('01001', '02134'): codes such as FIPS, ZIP
    or INSEE codes, which are ids, never numbers."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    text = values.dropna().astype(str).str.strip()
    return len(text) > 0 and bool(text.str.fullmatch(r"\d+").all()) and bool(text.str.fullmatch(r"0\d+").any())

def _with_codes_as_text(path: Path, table: pd.DataFrame, options: dict) -> pd.DataFrame:
    """``table`` with its columns of whole numbers that :func:`zero_padded` calls codes in the file read
    again as text: pandas had read '01001' as 1001 (or 1001.0, beside an empty row)."""
    integers = _whole_number_columns(table)
    if not integers:
        return table
    raw = pd.read_csv(path, **(options | {"dtype": str, "usecols": integers, "index_col": False}))
    return _with_codes_from(table, raw.loc[table.index])

def _whole_number_columns(table: pd.DataFrame) -> list:
    return [column for column in table.columns if pd.api.types.is_integer_dtype(table[column])
            or (pd.api.types.is_float_dtype(table[column]) and whole_numbers(table[column].to_numpy()))]

def _with_codes_from(table: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each whole-number column whose text in ``raw`` (the same rows read as text)
    :func:`zero_padded` calls codes replaced by that text."""
    for column in _whole_number_columns(table):
        if column in raw and zero_padded(raw[column]):
            table[column] = raw[column].str.strip()
    return table

def whole_numbers(values: np.ndarray) -> bool:
    """Whether the finite ``values`` (at least one) are whole numbers."""
    known = values[np.isfinite(values)]
    return len(known) > 0 and bool((known == np.round(known)).all())

def _read_excel(path: Path, text_columns: Iterable[str], codes: bool = False, sheet: str | None = None
                ) -> pd.DataFrame:
    """The first sheet of an Excel workbook (or the one named ``sheet``) as a table, as :func:`read_table` reads a
    CSV: the header checked for repeated names, ``text_columns`` as text, only empty cells missing; with ``codes``,
    columns pandas read as whole numbers from text cells with leading zeros ('007' stored as text) kept as that
    text. The sheet names of a workbook of several read by its first are kept in ``attrs[FIRST_SHEET]``."""
    with pd.ExcelFile(path) as workbook:
        sheets = [str(name) for name in workbook.sheet_names]
    if sheet is not None and sheet not in sheets:
        raise InputError(f"{path}: has no sheet '{sheet}'; its sheets: {quoted_names(sheets)} (--layer, or the "
                         "[regions] key layer)")
    name = 0 if sheet is None else sheet
    refuse_repeated_columns(path, pd.read_excel(path, sheet_name=name, header=None, nrows=1, dtype=str))
    wanted = {str(column).lower() for column in text_columns if column}
    header = pd.read_excel(path, sheet_name=name, nrows=0).columns if wanted else []
    dtype = {column: str for column in header if str(column).strip().lower() in wanted}
    table = _without_empty_rows(path, pd.read_excel(path, sheet_name=name, dtype=dtype or None,
                                                    keep_default_na=False, na_values=[""]))
    if table.isna().any().any():
        _refuse_formulas_without_values(path, table)
    _refuse_logical_cells_among_numbers(path, name, table)
    if len(sheets) > 1 and sheet is None:  # named where a column is missing: the data may be on another sheet
        table.attrs[FIRST_SHEET] = sheets
    if dtype:
        restore_shown_ids(path, table, list(dtype))
    if codes:
        raw = pd.read_excel(path, sheet_name=name, dtype=str, keep_default_na=False, na_values=[""])
        table = _with_codes_from(table, raw.iloc[:len(table)].set_axis(table.index))
    return header_stripped(table)

def _refuse_logical_cells_among_numbers(path: Path, sheet: str | int, table: pd.DataFrame) -> None:
    """Refuse a TRUE/FALSE cell (a logical value, a checkbox) in a column of numbers: pandas reads it as 1 or 0,
    and a longitude of TRUE had placed a region at 1° E without a word (in a CSV, 'TRUE' is not a number)."""
    numeric = [position for position, kind in enumerate(table.dtypes)
               if pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind)]
    if not numeric:
        return
    raw = pd.read_excel(path, sheet_name=sheet, usecols=numeric, dtype=object, keep_default_na=False, na_values=[""])
    for position, column in zip(numeric, raw.columns, strict=True):
        logical = raw[column].iloc[:len(table)].map(lambda value: isinstance(value, bool | np.bool_)).to_numpy()
        if logical.any():
            rows = (np.flatnonzero(logical) + 1).tolist()
            raise InputError(f"{path}: column '{table.columns[position]}' holds TRUE/FALSE in rows {truncated(rows)} "
                             "among numbers (read as 1 and 0); give a number in every row")

EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                          "#SPILL!", "#CALC!"})  # a spreadsheet's error values, which pandas reads as empty cells

def _refuse_formulas_without_values(path: Path, table: pd.DataFrame) -> None:
    """Refuse cells of the first sheet that hold a formula (``=D2*100``) and no value saved with it, as a
    workbook written by a program rather than saved by a spreadsheet has: they read as empty, and the error
    had said the column was missing (NaN) in every row while the spreadsheet showed numbers; and cells holding an
    error value (#DIV/0!, #N/A), which read as empty too: an optional flag or facility_types cell had been taken as
    false or every type."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        rows = workbook.worksheets[0].iter_rows(min_row=2, max_row=len(table) + 1, max_col=len(table.columns),
                                                values_only=True)
        for row_number, row in enumerate(rows):
            for position, value in enumerate(row):
                if isinstance(value, str) and value in EXCEL_ERRORS and pd.isna(table.iat[row_number, position]):
                    raise InputError(f"{path}: column '{table.columns[position]}' row {row_number + 1} holds the error "
                                     f"value {value}, which reads as an empty cell; correct the formula or the value")
                if isinstance(value, str) and value.startswith("=") and pd.isna(table.iat[row_number, position]):
                    raise InputError(
                        f"{path}: column '{table.columns[position]}' row {row_number + 1} holds the formula "
                        f"{value[:40]!r} and no value saved with it (a workbook written by a program, not saved by a "
                        "spreadsheet); open it in a spreadsheet and save it, which stores the values, or save it as "
                        "CSV")
    finally:
        workbook.close()

ZERO_PADDING = re.compile(r"0+")  # Excel's number format that shows 2134 as 02134 (ZIP codes, FIPS codes)

def restore_shown_ids(path: Path, table: pd.DataFrame, columns: list) -> None:
    """Text columns of ``table`` as Excel shows them where a cell holds a whole number formatted with
    leading zeros (``00000``: 2134 shown and meant as 02134), so that ids keep the zeros they have on screen,
    or a date (read as '2024-01-02 00:00:00'; its ISO text '2024-01-02', as a CSV file would hold it)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows()
        header = [cell.value for cell in next(rows, ())]
        positions = {column: header.index(column) for column in columns if column in header}
        for row_number, row in enumerate(rows):
            if row_number >= len(table):  # the empty rows it ended with are left out
                break
            for column, position in positions.items():
                cell = row[position] if position < len(row) else None
                value = getattr(cell, "value", None)
                width = getattr(cell, "number_format", "")
                if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer() \
                        and ZERO_PADDING.fullmatch(width or "") and value >= 0:
                    table.at[table.index[row_number], column] = str(int(value)).zfill(len(width))
                elif isinstance(value, datetime.datetime | datetime.date):
                    midnight = not isinstance(value, datetime.datetime) or value.time() == datetime.time()
                    shown = value.date() if midnight and isinstance(value, datetime.datetime) else value
                    table.at[table.index[row_number], column] = shown.isoformat()
    finally:
        workbook.close()

def refuse_repeated_columns(path: Path, first_row: pd.DataFrame) -> None:
    """A header naming a column twice ('demand,...,demand'): pandas would read the second as 'demand.1'
    and the first would silently be the one used."""
    names = [str(name).strip() for name in first_row.iloc[0].tolist()] if len(first_row) else []
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen and name != "nan":
            raise InputError(f"{path}: column '{name}' appears twice in the header (columns {seen[name]} and "
                             f"{position}); give each column its own name")
        seen.setdefault(name, position)

def require_columns(frame: pd.DataFrame, columns: list[str], path: Path, hint: str) -> None:
    """Raise naming the first missing column and the columns that exist."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        geometry = getattr(frame, "_geometry_column_name", None) if isinstance(frame, gpd.GeoDataFrame) else None
        available = [column for column in frame.columns if column != geometry]  # the file's own columns
        alike = [str(c) for c in available if str(c).strip().lower() == str(missing[0]).strip().lower()][:1]
        meant = f"; did you mean '{alike[0]}'? (column names are case-sensitive)" if alike else ""
        raise InputError(f"{path}: column '{missing[0]}' not found ({hint}); available: {truncated(available, 12)}"
                         f"{meant}{no_header_hint(available)}{sheet_note(frame)}")

def od_hint(frame: pd.DataFrame) -> str:
    """"; it looks like an OD matrix ..." for a table of 'from' and 'to' given where points were wanted, else ''."""
    if not set(OD_IDS) <= {str(column).strip().lower() for column in frame.columns}:
        return ""
    return "; it looks like an OD matrix (from, to): pass it with --od-matrix, and the regions as the data"

def no_header_hint(columns) -> str:
    """"; the first row holds numbers ('145', '-37'): has the file no header? ..." where most column names are
    numbers (a CSV without a header row, its first row read as the names), else ''."""
    numbers = [str(c) for c in columns if isinstance(c, str) and pd.notna(pd.to_numeric(c.strip(), errors="coerce"))]
    if len(numbers) < 2 or 2 * len(numbers) < len(columns):
        return ""
    return (f"; the first row holds numbers ({truncated([repr(n) for n in numbers], 4)}): has the file no header? "
            "add one as its first line (e.g. id,lon,lat,demand)")

def sheet_note(frame: pd.DataFrame) -> str:
    """'; only the workbook's first sheet ... is read' for a table read from a workbook of several sheets,
    else ''; for the regions, whose sheet --layer chooses (:data:`REGIONS_SHEET` in the attrs), with that fix."""
    sheets = frame.attrs.get(FIRST_SHEET)
    if not sheets:
        return ""
    fix = (f"choose the sheet with the data with --layer (the [regions] key layer; its sheets: "
           f"{quoted_names(sheets)})" if frame.attrs.get(REGIONS_SHEET)
           else "move the sheet with the data to the front, or save it as CSV")
    return f"; only the workbook's first sheet ('{sheets[0]}' of {len(sheets)}) is read: {fix}"

def quoted_names(names: list[str]) -> str:
    """"'2019', '2020'" (at most 8 named)."""
    return truncated([f"'{name}'" for name in names], 8)

OD_IDS = {"from": "a site id", "to": "a region id"}
