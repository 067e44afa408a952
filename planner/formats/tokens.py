"""Shared by every benchmark reader: a file → whitespace tokens → numbers, the counts that open it,
the checks on its values, and its instance name.

Token rule (all formats): split the file on whitespace and convert each token with ``float()``, so
``7500.``, ``.00000``, ``+32.5`` and CRLF line endings need no special case; NUL bytes (padding
left by some copies) and Ctrl-Z (DOS's end of file) count as whitespace, a UTF-8 byte-order mark at the
start is skipped, and so is a first line starting with ``FILE:`` (a name line) in the layouts other than
UflLib's simple one. The line layout is never relied on. Every error is an
:class:`~planner.errors.InputError` naming the file, the token or count, and what was expected.

Limits (each refused with one line before anything large is allocated):

* the path must be a regular file (not a device such as ``/dev/zero`` or a pipe);
* a header count is an integer from its least value (1, or 0 for a pmed edge count and p) to
  :data:`MAX_COUNT` (10,000,000);
* memory: splitting a file takes about :data:`FILE_BYTE_COST` bytes per byte of file, and an n × m
  cost or distance table about :data:`TABLE_COPIES` times its 8·n·m bytes while the reader and the
  Problem built from it hold their copies (measured: 11–14); either may use at most
  :data:`MEMORY_SHARE` (80 %) of the memory available (``MemAvailable`` of ``/proc/meminfo``, lowered to a
  cgroup's memory limit; else ``os.sysconf``; no check where neither is known);
* edge lengths and coordinates are at most :data:`MAX_MAGNITUDE` (1e15) in absolute value, the rule
  the model applies to one cost term, so that path lengths and distances cannot overflow.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
import stat
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from planner.errors import InputError, read_input_bytes

logger = logging.getLogger(__name__)

MAX_COUNT = 10_000_000  # the largest count a header may give (sites, customers, vertices, edges, points)
MAX_MAGNITUDE = 1e15  # the largest edge length or |coordinate|, as the model's limit on one cost term
MEMORY_SHARE = 0.8  # the share of the available memory a reader may plan to use
TABLE_COPIES = 12  # float arrays of an n × m table's size held while reading it and building the Problem
FILE_BYTE_COST = 40  # bytes of memory per byte of file while it is split into tokens (measured: about 37)
MEMINFO = Path("/proc/meminfo")
CGROUP_LIMITS = (  # (limit, usage) files of cgroup v2 and v1
    (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")),
    (Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"), Path("/sys/fs/cgroup/memory/memory.usage_in_bytes")),
)
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
GZIP_MAGIC = b"\x1f\x8b"
DOS_END_OF_FILE = "\x1a"  # Ctrl-Z, which old DOS copies end with: whitespace, as NUL padding
FILE_HEADER = "FILE:"  # UflLib's name line, which some copies of the other layouts carry too
GZIP_BLOCK = 16 << 20  # bytes decompressed between memory checks


def read_text(path: Path) -> str:
    """The text of ``path`` (UTF-8, else bytes as latin-1; NUL bytes as spaces, a UTF-8 byte-order mark skipped; a
    gzip file decompressed, a UTF-16 file with its byte-order mark decoded);
    InputError if it cannot be read, is not a regular file or is too large for the memory available."""
    path = Path(path)
    size = check_regular_file(path)
    if size is not None:
        check_memory(path, size * FILE_BYTE_COST, f"the file ({format_bytes(size)}) needs about "
                     f"{format_bytes(size * FILE_BYTE_COST)} of memory to split into numbers")
    data = read_input_bytes(path, "benchmark file", "planner bench")
    if data[:2] == GZIP_MAGIC:  # a .gz copy, as libraries often serve them
        data = _gunzipped(data, path)
    encoding = wide_encoding(data)
    if encoding is not None:
        unit = 4 if "32" in encoding else 2
        data = data[: len(data) - len(data) % unit]  # an odd byte at the end (a DOS end-of-file byte) left out
        try:
            return data.decode(encoding).replace("\x00", " ")
        except UnicodeDecodeError as error:
            raise InputError(f"{path}: reads as {encoding.upper()} text but cannot be decoded ({error.reason} at "
                             f"byte {error.start:,}); save it as plain text (UTF-8 or ASCII)") from None
    data = data.removeprefix(UTF8_BOM)
    try:  # UTF-8 where the bytes are: a no-break space copied from a web page is then whitespace, not 'Â' and one
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\x00", " ").replace(DOS_END_OF_FILE, " ")


UTF32_BOMS = {b"\xff\xfe\x00\x00": "utf-32", b"\x00\x00\xfe\xff": "utf-32"}
WIDE_SAMPLE = 4096  # bytes looked at for the NUL pattern of UTF-16/32 text without a byte-order mark
WIDE_MISSES = 0.05  # share of the sample's places that may break that pattern


def wide_encoding(data: bytes) -> str | None:
    """The encoding of text written in UTF-32 or UTF-16 (with a byte-order mark, or without one where the
    sample's NUL bytes fall in their places: ASCII digits in UTF-16-LE are 'd\\0'); None for 8-bit text.
    Without this, the NULs read as spaces split '100' into '1 0 0'. The sample skips leading NUL padding;
    at most ``WIDE_MISSES`` of the places meant to be NUL may hold a byte (a character beyond Latin-1,
    an en dash in a name line), and the places of the text must hold it (not NUL padding)."""
    if data[:4] in UTF32_BOMS:
        return "utf-32"
    if data[:2] in UTF16_BOMS:
        return "utf-16"
    start = len(data) - len(data.lstrip(b"\x00"))
    sample = data[start - start % 4:][:WIDE_SAMPLE]  # from a whole code unit of UTF-32 (and so of UTF-16)
    sample = sample[: len(sample) - len(sample) % 4]
    if len(sample) < 8 or sample.count(0) < len(sample) // 3:
        return None

    def nul_share(offset: int, step: int) -> float:
        places = sample[offset::step]
        return places.count(0) / len(places)

    for nul_places, step, encoding in (((1, 2, 3), 4, "utf-32-le"), ((0, 1, 2), 4, "utf-32-be"),
                                       ((1,), 2, "utf-16-le"), ((0,), 2, "utf-16-be")):
        text_places = [o for o in range(step) if o not in nul_places]
        if all(nul_share(o, step) >= 1 - WIDE_MISSES for o in nul_places) and all(
                nul_share(o, step) <= WIDE_MISSES for o in text_places):
            return encoding
    return None


def _gunzipped(data: bytes, path: Path) -> bytes:
    """The bytes a gzip file holds, read in blocks whose total is checked against the memory as it grows;
    one line if the file is not whole."""
    parts, total = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as packed:
            while block := packed.read(GZIP_BLOCK):
                parts.append(block)
                total += len(block)
                check_memory(path, total * FILE_BYTE_COST, f"the file (at least {format_bytes(total)} "
                             f"uncompressed) needs more than {format_bytes(total * FILE_BYTE_COST)} of memory to "
                             "split into numbers")
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"{path}: is gzip-compressed but cannot be decompressed ({error}); pass the file whole or "
                         "decompressed") from None
    return b"".join(parts)


def check_regular_file(path: Path) -> int | None:
    """The size in bytes of ``path`` if it is a regular file; None if it cannot be looked at or is a
    folder (reading it gives the usual message); InputError for a device, a pipe or a socket, which
    would be read until memory runs out, or wait for ever."""
    try:
        status = path.stat()
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(status.st_mode):
        return status.st_size
    if stat.S_ISDIR(status.st_mode):
        return None
    raise InputError(f"{path}: is not a regular file (a device or a pipe); pass a benchmark file saved on disk "
                     "to planner bench")


def format_bytes(count: float) -> str:
    """``count`` bytes, short: ``96,000 GB``, ``8.0 GB``, ``576 bytes``."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            value = count / size
            return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
    return f"{count:.0f} bytes"


def meminfo_available(meminfo: Path = MEMINFO) -> float | None:
    """``MemAvailable`` of ``/proc/meminfo`` in bytes; None where the file or the line is missing."""
    try:
        lines = meminfo.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "MemAvailable:":
            try:
                return float(fields[1]) * (1024 if fields[2:] == ["kB"] else 1)
            except ValueError:
                return None
    return None


def cgroup_room() -> float | None:
    """The memory left under this process's cgroup limit in bytes (limit − usage); None without one."""
    for limit_file, usage_file in CGROUP_LIMITS:
        try:
            limit, usage = limit_file.read_text().strip(), usage_file.read_text().strip()
            if limit.isdigit() and usage.isdigit() and int(limit) < 2**60:  # "max" or a huge value: no limit
                return float(max(int(limit) - int(usage), 0))
        except (OSError, ValueError):
            continue
    return None


def available_memory() -> float | None:
    """The memory available to this process in bytes (``MemAvailable``, else ``os.sysconf``, lowered to
    the cgroup's room); None where the system tells neither."""
    available = meminfo_available()
    if available is None:
        try:
            available = float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            available = None
    room = cgroup_room()
    if room is not None:
        available = room if available is None else min(available, room)
    return available


def check_memory(path: Path, need: float, what: str) -> None:
    """InputError when ``need`` bytes are more than the share of the available memory a reader may use;
    ``what`` says what needs them (the start of the message after the file name)."""
    available = available_memory()
    if available is None or need <= MEMORY_SHARE * available:
        return
    raise InputError(
        f"{path}: {what}, but a reader may use at most {format_bytes(MEMORY_SHARE * available)} of the "
        f"{format_bytes(available)} available; use a smaller instance or a machine with more memory"
    )


def check_table_fits(path: Path, rows: int, columns: int, kind: str) -> None:
    """InputError, before it is allocated, when a ``rows`` × ``columns`` ``kind`` table (``"distance"``,
    ``"cost"``) and the working copies of it made while building the model cannot fit in memory."""
    table = 8.0 * rows * columns
    need = TABLE_COPIES * table
    check_memory(path, need, f"its {rows} × {columns} {kind} table needs about {format_bytes(need)} of memory "
                 f"({TABLE_COPIES} working copies of {format_bytes(table)})")


def check_magnitude(values: np.ndarray, path: Path, item: str, what: str) -> None:
    """InputError naming the first row of ``values`` (one row per ``item``, e.g. ``"edge"``) with an entry
    above :data:`MAX_MAGNITUDE` in absolute value (``what``: ``"length"``, ``"coordinate"``)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return
    values = values.reshape(len(values), -1)
    with np.errstate(invalid="ignore"):
        big = np.abs(values) > MAX_MAGNITUDE
    if big.any():
        row = int(np.flatnonzero(big.any(axis=1))[0])
        value = values[row][big[row]][0]
        raise InputError(
            f"{path}: {item} {row + 1} has {what} {value:g}, above the limit {MAX_MAGNITUDE:g} (distances would "
            f"overflow); scale the {what}s down, e.g. to thousands of the unit"
        )


def read_tokens(path: Path) -> list[str]:
    """The whitespace-separated tokens of ``path`` (NUL and Ctrl-Z bytes count as whitespace), without a
    first line that starts with ``FILE:`` (a name line, as UflLib's)."""
    text = read_text(path)
    if name_line_tokens(text):
        text = after_first_line(text)
        logger.info("%s: its first line, 'FILE: …', is a name line and is skipped", path)
    tokens = text.split()
    if not tokens:
        raise InputError(f"{path}: file is empty")
    return tokens


def name_line_tokens(text: str) -> int:
    """How many tokens :func:`read_tokens` leaves out at the start of ``text``: those of a first line that
    starts with ``FILE:`` (a name line), else 0."""
    first = text.lstrip()
    if first[:len(FILE_HEADER)].upper() != FILE_HEADER:
        return 0
    return len(first.replace("\r", "\n").partition("\n")[0].split())


def after_first_line(text: str) -> str:
    """``text`` after its first non-blank line (lines end with LF, CRLF or CR)."""
    return text.lstrip().replace("\r", "\n").partition("\n")[2]


def number(token: str) -> float:
    """``float(token)``, except that Python's digit separators (``2_2``) are not a number in a data file."""
    if "_" in token:
        raise ValueError(token)
    return float(token)


def to_floats(tokens: list[str], path: Path, *, start: int = 0) -> np.ndarray:
    """:func:`number` of every token; ``start`` is how many of the tokens :func:`read_tokens` gives come before
    ``tokens[0]`` (for messages)."""
    try:
        return np.array([number(token) for token in tokens], dtype=float)
    except ValueError:
        for position, token in enumerate(tokens, start=start + 1):
            try:
                number(token)
            except ValueError:
                raise InputError(
                    f"{path}: {token_place(path, position)} is {token[:20]!r}, not a number (every "
                    "token of the file must be one)"
                ) from None
        raise  # pragma: no cover - unreachable: some token failed above


def to_count(token: str, path: Path, what: str, *, minimum: int = 1) -> int:
    """A header token that must be an integer from ``minimum`` to :data:`MAX_COUNT` (``"16"`` or ``"16."``)."""
    try:
        value = number(token)
    except ValueError:
        raise InputError(f"{path}: {what} is {token[:20]!r}, not a number") from None
    if not value.is_integer() or not minimum <= value <= MAX_COUNT:
        raise InputError(f"{path}: {what} is {token[:20]}, expected an integer ≥ {minimum} and at most {MAX_COUNT:,}")
    return int(value)


def header_counts(
    tokens: list[str], path: Path, header: str, counts: Sequence[str], *, n_header: int | None = None,
    minimum: Sequence[int] | None = None,
) -> list[int]:
    """The counts that open a file: ``counts[i]`` says what token i is (``"the number of customers n
    (token 2)"``) and ``minimum[i]`` its least value (1 by default). ``header`` describes the
    ``n_header`` tokens of the header (default: one per count), for the error when there are fewer."""
    n_header = len(counts) if n_header is None else n_header
    if len(tokens) < n_header:
        found = f"{len(tokens)} token" + ("" if len(tokens) == 1 else "s")
        raise InputError(f"{path}: expected {header}, found {found}")
    least = [1] * len(counts) if minimum is None else list(minimum)
    return [to_count(tokens[i], path, counts[i], minimum=least[i]) for i in range(len(counts))]


def check_token_count(tokens: list[str], expected: int, path: Path, layout: str, *, start: int = 0) -> None:
    """Raise InputError unless ``tokens`` are exactly ``expected``; ``start`` is how many of the tokens
    :func:`read_tokens` gives come before them (for the place and line of the first extra one, or of the last
    one of a file cut short)."""
    if len(tokens) > expected:
        extra = token_place(path, start + expected + 1)
        raise InputError(f"{path}: expected {expected} numbers for {layout}, found {len(tokens)}: {extra}, "
                         f"{tokens[expected][:20]!r}, is the first extra one")
    if len(tokens) != expected:
        last = f", the last {token_place(path, start + len(tokens))}" if tokens else ""
        raise InputError(f"{path}: expected {expected} numbers for {layout}, found {len(tokens)}{last}: the file is "
                         "cut short or a count of its header is wrong; download the file again whole or correct the "
                         "count")


def token_place(path: Path, position: int) -> str:
    """'token P (line L)' for the 1-based ``position`` among the tokens :func:`read_tokens` gives (0 or less
    for one of a name line it leaves out), P its place in the whole file, for an error message."""
    try:
        text = read_text(path)
    except InputError:
        return f"token {position}"
    position += name_line_tokens(text)
    for count, match in enumerate(re.finditer(r"\S+", text), start=1):
        if count == position:
            before = text[:match.start()]
            line = 1 + before.count(chr(10)) + before.count(chr(13)) - before.count(chr(13) + chr(10))
            return f"token {position} (line {line})"
    return f"token {position}"


def read_sites_customers(path: Path, sites: str, n_tokens: Callable[[int, int], int], *,
                         optimum_line: bool = False) -> tuple[list[str], int, int]:
    """The tokens of a file that opens with ``m n`` (m ``sites``, e.g. ``"warehouses"``, and n
    customers) and has exactly ``n_tokens(m, n)`` tokens; also m and n. With ``optimum_line``, one number
    more, alone on the file's last line, is the optimum value some copies end with (Guastaroba & Speranza's
    single-source files: '…, OPT_VAL'): it is left out, with a warning."""
    tokens = read_tokens(path)
    n_sites, n_customers = header_counts(
        tokens, path, f"a header 'm n' ({sites}, customers)",
        [f"the number of {sites} m (token 1)", "the number of customers n (token 2)"],
    )
    expected = n_tokens(n_sites, n_customers)
    if optimum_line and len(tokens) == expected + 1 and alone_on_last_line(path, tokens[-1]):
        logger.warning("%s: its last line, %s, one number more than %d %s × %d customers hold, is read as the "
                       "optimum value the file carries and left out", path, tokens[-1][:20], n_sites, sites,
                       n_customers)
        tokens = tokens[:-1]
    check_token_count(tokens, expected, path, f"{n_sites} {sites} × {n_customers} customers")
    check_table_fits(path, n_sites, n_customers, "cost")
    return tokens, n_sites, n_customers


def alone_on_last_line(path: Path, token: str) -> bool:
    """Whether ``token`` is a number and all of the last non-blank line of ``path``."""
    try:
        number(token)
    except ValueError:
        return False
    lines = read_text(path).replace("\r", "\n").split("\n")
    return next((line.split() for line in reversed(lines) if line.strip()), []) == [token]


Place = Callable[[int], int]  # the flat index of a checked entry → its 1-based place among read_tokens' tokens


def check_values(values: np.ndarray, path: Path, what: str, *, positive: bool = False, place: Place | None = None
                 ) -> None:
    """Raise InputError if ``values`` has a non-finite or negative (or, if ``positive``, zero) entry; with
    ``place``, the message names the token and line of the first."""
    bad = ~np.isfinite(values) | (values <= 0 if positive else values < 0)
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        need = "positive" if positive else "finite and ≥ 0"
        if values.ndim == 2:  # a cost table (facilities × customers), whatever order the file lists it in
            row, column = np.unravel_index(first, values.shape)
            where = f"facility {row + 1}, customer {column + 1}"
        else:
            where = f"entry {first + 1}"
        at = "" if place is None else f", {token_place(path, place(first))}"
        raise InputError(
            f"{path}: {np.count_nonzero(bad)} {what} are not {need} (first: {where} = {values.ravel()[first]}{at})"
        )


def check_dense_values(
    path: Path, *, opening_cost: np.ndarray, total_cost: np.ndarray, capacity: np.ndarray | None = None,
    demand: np.ndarray | None = None, positive_demand: bool = False, places: dict[str, Place] | None = None,
) -> None:
    """The numbers of a dense facility-location instance, in this order: capacities (if given) and
    opening costs finite and ≥ 0, demands (if given) ≥ 0 or, with ``positive_demand``, > 0, costs
    ``c_ij`` finite and ≥ 0 (flat, facility-major). ``places`` maps each of ``"capacities"``, ``"opening
    costs"``, ``"demands"`` and ``"costs c_ij"`` to the :data:`Place` of its entries in the file."""
    places = places or {}
    if capacity is not None:
        check_values(capacity, path, "capacities", place=places.get("capacities"))
    check_values(opening_cost, path, "opening costs", place=places.get("opening costs"))
    if demand is not None:
        check_values(demand, path, "demands", positive=positive_demand, place=places.get("demands"))
    check_values(total_cost, path, "costs c_ij", place=places.get("costs c_ij"))


def instance_name(path: Path) -> str:
    """The instance name of a benchmark file: its file name without a ``.gz`` and then a ``.txt`` suffix
    (``cap41.txt`` → ``cap41``, ``cap41.txt.gz`` → ``cap41``, ``B1.10`` → ``B1.10``: names may contain dots)."""
    name = Path(path).name
    name = name[: -len(".gz")] if name.lower().endswith(".gz") else name
    return name[: -len(".txt")] if name.lower().endswith(".txt") else name
