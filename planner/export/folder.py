"""Write every output of a solve into a folder, atomically: into a temporary sibling folder first,
moved into place only when complete.

Nothing the planner did not write is ever replaced or deleted: every folder it writes carries the
marker file :data:`MARKER`, and an existing folder is replaced only when it carries the marker (or is
empty); any other ``--out`` is refused before anything is touched (:func:`check_output_dir`).
Staging folders (``.NAME.tmp-*``, marked too) that a killed run left beside an output are removed by
the next run into that output once the process that made them is gone (:func:`remove_stale_staging`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import glob
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import InputError, full_disk_cause, truncated, write_denied_cause
from planner.export.interactive_map import write_interactive_map
from planner.export.layers import (
    flow_layer,
    inbound_layer,
    lines_for_gis,
    region_layer,
    regions_for_gis,
    site_layer,
    supplier_layer,
)
from planner.export.report import measured_text, report_title, write_report
from planner.export.static_map import draw_maps
from planner.export.summary import build_summary, clean_for_json, data_sources, objective_kind_block
from planner.export.workbook import WORKBOOK, write_solve_workbook
from planner.inputs.paths import file_mode, hash_file_into, missing_folders, refuse_unreachable, remove_if_empty
from planner.inputs.prepare import Inputs
from planner.interrupt import native_section, note_kept, raise_if_stopped
from planner.owner import owner_is_gone, owner_lines
from planner.pipeline import Run, with_region_names
from planner.results import service_text

logger = logging.getLogger(__name__)

MARKER = ".planner-output"  # in every folder the planner writes; only such folders are replaced
MARKER_TEXT = (
    "This folder was written by the microfactory planner; its next run into this folder replaces it.\n"
    "The planner replaces or deletes only folders that hold this file.\n"
)
OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})  # made by file browsers; replaced freely
_live_staging: set[Path] = set()  # staging folders of this process not yet moved into place or removed
_created_parents: dict[Path, list[Path]] = {}  # staging folder -> the folders above it its run made


@dataclass(frozen=True)
class ExtraOutput:
    """More outputs of a solve: a summary.json block, files (CSV tables or bytes), a report section."""

    key: str
    block: dict[str, Any]
    files: dict[str, Any]
    section: str
    view: str | None = None  # what the maps and tables show, when not the plain solve
    evaluated: bool = True  # the view's network solved again alone (False: a slice of the study's solution)


def is_planner_output(folder: Path) -> bool:
    """True when ``folder`` carries the planner's marker file."""
    return (Path(folder) / MARKER).is_file()


def enclosing_output(out: Path) -> Path | None:
    """The nearest folder above ``out`` that the planner wrote (it carries the marker), or None: a run
    writing there would change that output behind its back (a pareto's point folder replaced by an
    alternatives run, the pareto then refused as holding files the planner did not write)."""
    for parent in Path(os.path.abspath(out)).parents:
        if is_planner_output(parent):
            return parent
    return None


def write_marker(folder: Path) -> None:
    """Mark ``folder`` as the planner's own (the writing process and host let a later run tell a
    staging folder that is still being written from one a killed run left)."""
    text = MARKER_TEXT + owner_lines()
    (Path(folder) / MARKER).write_text(text, encoding="utf-8")


def check_output_dir(out: Path, in_place: bool = False) -> None:
    """Raise :class:`InputError` (touching nothing) unless ``out`` may be written: it does not exist,
    or it is an empty folder or a folder the planner wrote, and it holds neither the current folder
    nor a link in its place. A folder whose marker lists no files (written in place, as a sweep's, or
    by a planner before the list) may be written in place again (``in_place``) but not replaced: what
    in it the planner wrote cannot be told from files added since, and replacing it deletes them."""
    out = Path(out)
    check_output_name(out)
    refuse_unreachable(out)
    if out.is_symlink():
        raise InputError(f"{out}: is a link; choose a new folder for --out")
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; choose another --out")
    resolved = out.resolve()
    if Path.cwd().resolve().is_relative_to(resolved):
        raise InputError(f"{out}: is the current folder or holds it; choose a new folder for --out")
    _refuse_read_only(out, in_place)
    if is_planner_output(out):
        foreign = not_written_by_planner(out)
        if not in_place and not _lists_its_files(out) and not _holds_nothing_but_the_marker(out):
            raise InputError(
                f"{out}: holds outputs written in place (a sweep's, or an older planner's), whose files the "
                "planner cannot tell from files added since; nothing was changed; choose another --out (or "
                "remove that folder)"
            )
        if foreign:
            raise InputError(
                f"{out}: holds {truncated(foreign)}, which the planner did not write; nothing was changed; move "
                f"{'them' if len(foreign) > 1 else 'it'} out of the folder or choose another --out"
            )
        changed = changed_since_written(out)
        if changed:
            raise InputError(
                f"{out}: {truncated(changed)} changed since the planner wrote {'it' if len(changed) == 1 else 'them'}"
                "; nothing was changed; move what you want to keep out of the folder or choose another --out"
            )
        return
    try:
        empty = next(out.iterdir(), None) is None
    except OSError as error:
        raise InputError(f"{out}: cannot read the folder ({error.strerror}); choose another --out") from None
    if not empty:
        raise InputError(
            f"{out}: folder exists, is not empty and was not written by the planner (it has no {MARKER} "
            "file); nothing was changed; choose a new or empty folder for --out"
        )


def _refuse_read_only(out: Path, in_place: bool) -> None:
    """Refuse (before anything is solved) an existing ``out`` the planner could not write in, or, unless written
    in place, not replace (its parent folder read-only): a read-only output had been replaced anyway, each run
    leaving a copy it could not remove, and a sweep ended with an internal error after solving."""
    parent = Path(os.path.abspath(out)).parent
    if not os.access(out, os.W_OK | os.X_OK):
        where = out
    elif not in_place and not os.access(parent, os.W_OK | os.X_OK):
        where = parent
    else:
        return
    raise InputError(f"{out}: {'the folder holding it is' if where == parent else 'folder is'} read-only, so the "
                     "planner cannot write its outputs there; nothing was changed; make it writable or choose "
                     "another --out")


# the longest name beside --out: the staging folder .NAME.tmp-XXXXXXXX, and the old output moved aside
# as .NAME.tmp-XXXXXXXX-old while the new one takes its place
STAGING_EXTRA_BYTES = len(".") + len(".tmp-") + 8 + len("-old")
INNER_PATH_BYTES = 128  # room left in a path for the files and folders written inside the output folder
# the longest path of a GeoPackage GDAL's SQLite driver opens (longer: "sqlite3_open(…) failed", an internal error)
GEOPACKAGE_PATH_BYTES = 2040
# room left in an output for a run's folder inside it or its staging folder, itself checked as an output
# (scenarios/<16-digit key>, .NAME.tmp-XXXXXXXX/networks/01_alternative): an --out at the limit had failed each
# of them after solving
RUN_FOLDER_BYTES = 40


def _path_max_bytes() -> int:
    """The longest path the file system takes, in bytes (4,095 on Linux; 1,023 on macOS)."""
    try:
        limit = os.pathconf(os.sep, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 4096
    return (limit if limit > 0 else 4096) - 1  # the limit counts the terminating NUL


def check_output_name(out: Path) -> None:
    """A name the planner can write: no control character (a newline broke the GeoPackage writer: an
    internal error), and short enough for its staging folder ``.NAME.tmp-XXXXXXXX`` (and the old
    output moved aside as ``.NAME.tmp-XXXXXXXX-old``) on this file system (a 245-byte name was refused
    as "not writable", a 300-byte one an internal error, a 240-byte one failed after a second solve), with
    its GeoPackage, also in a run's folder inside it, within what GDAL opens (:data:`GEOPACKAGE_PATH_BYTES`)."""
    if any(ord(character) < 32 or ord(character) == 127 for character in str(out)):
        raise InputError(f"--out {str(out)!r}: has a control character (a newline or tab); choose a folder name "
                         "without one")
    parts = out.parts
    for position, part in enumerate(parts):
        if part == ".." and position > 0 and not Path(*parts[:position]).is_dir():
            before = Path(*parts[:position])
            state = "is not a folder" if before.exists() else "does not exist"
            raise InputError(f"--out '{out}': '{before}' {state}, so the '..' after it cannot be followed; give "
                             f"the path without it (e.g. {os.path.normpath(out)})")
    try:
        os.fsencode(str(out.absolute()))
    except UnicodeEncodeError:  # LC_ALL=C: a model named 椅子模型 had been an internal error
        raise InputError(f"--out {ascii(str(out))}: the file system's encoding here ({sys.getfilesystemencoding()}) "
                         "cannot write this name; use a UTF-8 locale (e.g. LANG=C.UTF-8) or choose --out with an "
                         "ASCII name") from None
    room = 0 if enclosing_output(out) is not None else RUN_FOLDER_BYTES  # a run's folder needs none inside it
    most = min(_path_max_bytes(), GEOPACKAGE_PATH_BYTES) - STAGING_EXTRA_BYTES - INNER_PATH_BYTES - room
    path_bytes = len(os.fsencode(str(out.absolute())))
    if path_bytes > most:
        raise InputError(f"--out {str(out)[:40]}…: the path is {path_bytes:,} bytes, at most {most:,} here (room is "
                         "left for the files written in it); choose a shorter path")
    existing = next((p for p in [out.absolute().parent, *out.absolute().parents] if p.is_dir()), None)
    try:
        name_max = os.pathconf(existing, "PC_NAME_MAX") if existing is not None else 255
    except (OSError, ValueError):
        name_max = 255
    name_max = name_max if name_max > 0 else 255  # -1: no limit stated
    length = len(os.fsencode(out.name))
    if length + STAGING_EXTRA_BYTES > name_max:
        raise InputError(f"--out {out.name[:40]}…: the folder name is {length} bytes, at most "
                         f"{name_max - STAGING_EXTRA_BYTES} here (it is written first beside it as "
                         ".NAME.tmp-XXXXXXXX-old); choose a shorter name")


def write_manifest(folder: Path) -> None:
    """Add every path below ``folder`` to its marker (``written PATH`` lines) and each file's content
    (``content SHA256 PATH``), so a later run can tell what the planner wrote from files added to the
    folder (:func:`not_written_by_planner`) or changed in it (:func:`changed_since_written`) since."""
    paths = [path for path in _paths_below(Path(folder)) if path != MARKER]
    lines = [f"written {path}\n" for path in paths]
    lines += [f"content {_content_digest(folder / path)} {path}\n" for path in paths if (folder / path).is_file()]
    with open(folder / MARKER, "a", encoding="utf-8") as marker:
        marker.write("".join(lines))


SQLITE_HEADER = b"SQLite format 3\x00"  # a GeoPackage's first bytes
SQLITE_HEADER_BYTES = 100  # its change counter and journal mode: QGIS rewrites them on opening the file


def _content_digest(path: Path, whole: bool = False) -> str:
    """SHA-256 of a file's bytes; of a SQLite file's (the GeoPackage's) after its 100-byte header, which
    viewing it in QGIS changes (a rerun had been refused after the user only looked at network.gpkg),
    unless ``whole``."""
    with open(path, "rb") as handle:
        sqlite = handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    digest = hashlib.sha256()
    hash_file_into(digest, path, skip=SQLITE_HEADER_BYTES if sqlite and not whole else 0)
    return digest.hexdigest()


def _unchanged(path: Path, recorded: str) -> bool:
    """Whether ``path`` holds what its recorded digest says (a marker written before the header was left out
    recorded the whole GeoPackage: that digest still counts)."""
    return _content_digest(path) == recorded or _content_digest(path, whole=True) == recorded


def changed_since_written(folder: Path) -> list[str]:
    """The files below the marked ``folder`` whose content differs from what its marker records the
    planner wrote (none where it records no contents: written by an older planner)."""
    folder = Path(folder)
    try:
        lines = (folder / MARKER).read_text(encoding="utf-8", errors="replace").splitlines()
        recorded = dict(line.removeprefix("content ").split(" ", 1)[::-1] for line in lines
                        if line.startswith("content ") and " " in line.removeprefix("content "))
        return [path for path, digest in sorted(recorded.items())
                if (folder / path).is_file() and not _unchanged(folder / path, digest)]
    except OSError as error:
        raise InputError(f"{folder}: cannot read the folder ({error.strerror}); choose another --out") from None


def not_written_by_planner(folder: Path) -> list[str]:
    """The paths below the marked ``folder`` that its marker does not list (none when the marker lists
    nothing: a folder written in place, such as a sweep's, or by a planner before the list)."""
    folder = Path(folder)
    try:
        lines = (folder / MARKER).read_text(encoding="utf-8", errors="replace").splitlines()
        written = {line.removeprefix("written ") for line in lines if line.startswith("written ")}
        if not written:
            return []
        paths = _paths_below(folder)
    except OSError as error:
        raise InputError(f"{folder}: cannot read the folder ({error.strerror}); choose another --out") from None
    return [path for path in paths if path != MARKER and path not in written
            and Path(path).name not in OS_LITTER]


def _lists_its_files(folder: Path) -> bool:
    """Whether the marker of ``folder`` lists the files the planner wrote (``written PATH`` lines)."""
    try:
        text = (folder / MARKER).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise InputError(f"{folder}: cannot read the folder ({error.strerror}); choose another --out") from None
    return any(line.startswith("written ") for line in text.splitlines())


def _paths_below(folder: Path) -> list[str]:
    """Every file and folder below ``folder``, as sorted POSIX paths relative to it."""
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


def _staging_is_stale(folder: Path) -> bool:
    """A marked staging folder whose writer is gone (on this host); unmarked ones are never touched."""
    try:
        return owner_is_gone((folder / MARKER).read_text(encoding="utf-8"))
    except OSError:
        return False


def is_staging_name(folder_name: str, name: str | None = None) -> bool:
    """Whether ``folder_name`` is that of a staging folder of output ``name`` (any without it): exactly
    ``.NAME.tmp-`` and ``mkdtemp``'s eight characters."""
    stem = ".+" if name is None else re.escape(name)
    return re.fullmatch(rf"\.{stem}\.tmp-[a-z0-9_]{{8}}", folder_name) is not None


def _is_old_output(path: Path, name: str | None) -> bool:
    """Whether ``path`` is a previous output moved aside (``.NAME.tmp-XXXXXXXX-old``) that was not removed
    after its replacement took its place (a file that could not be deleted then): planner-marked, listing
    its files, holding nothing else, and its replacement's staging folder gone."""
    if not path.name.endswith("-old") or not is_staging_name(path.name[: -len("-old")], name):
        return False
    if path.with_name(path.name[: -len("-old")]).exists() or not is_planner_output(path):
        return False
    try:
        return _lists_its_files(path) and not not_written_by_planner(path)
    except (InputError, OSError):
        return False


def remove_stale_staging(parent: Path, name: str | None = None) -> list[Path]:
    """Remove the staging folders ``.NAME.tmp-XXXXXXXX`` (any name without ``name``) in ``parent`` that
    a killed planner run left (marked by the planner, their process gone, no files listed in the
    marker: a finished output, or a copy of one under such a name, lists its files and is kept);
    returns them."""
    removed = []
    for path in Path(parent).glob(f".{'*' if name is None else glob.escape(name)}.tmp-*"):
        if not path.is_dir() or path.is_symlink():
            continue
        stale = is_staging_name(path.name, name) and _staging_is_stale(path) and not _lists_its_files(path)
        if stale or _is_old_output(path, name):  # stale: marked and readable
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    if removed:
        logger.info("removed %d staging folder(s) left by an interrupted run in %s", len(removed), parent)
    return removed


def prepare_output_dir(out: Path) -> Path:
    """Create a marked staging folder beside ``out``; fail early with one line when ``out`` may not be
    replaced (:func:`check_output_dir`) or is not writable. Removes the staging folders a killed run
    left beside ``out``."""
    out = Path(out)
    check_output_dir(out)
    if out.is_dir() and os.path.ismount(out):
        raise InputError(
            f"{out}: is a mount point, which cannot be replaced by the finished folder (the planner writes "
            f"beside --out and moves the result into place); choose a folder inside it, e.g. {out / 'results'}"
        )
    parent = out.resolve().parent
    staging = None
    created = missing_folders(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(parent, out.name)
        with native_section():  # a signal waits until the new folder is marked and known
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
            _live_staging.add(staging)
            _created_parents[staging] = created
            staging.chmod(file_mode(0o777))  # mkdtemp makes it private; results are ordinary files
            write_marker(staging)
    except OSError as error:
        _discard(staging)
        remove_if_empty(created)
        blocker = next((p for p in [parent, *parent.parents] if p.exists()), parent)
        reason = f"'{blocker}' is a file, not a folder" if not blocker.is_dir() else error.strerror
        raise InputError(f"{out}: output folder is not writable ({reason}); choose another --out") from None
    except BaseException:
        _discard(staging)
        remove_if_empty(created)
        raise
    return staging


def _discard(staging: Path | None) -> None:
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
        if staging.exists():  # its parent no longer lets it go (made read-only meanwhile)
            with contextlib.suppress(OSError):
                write_marker(staging)  # marked again: a later run into that folder removes it once it can
            logger.warning("%s: the staging folder could not be removed; a later run removes it, or delete it by "
                           "hand", staging)
        _live_staging.discard(staging)
        remove_if_empty(_created_parents.pop(staging, []))


def discard_staging() -> None:
    """Remove every staging folder this process made and has not moved into place (the CLI's last
    line of defence when a run fails or is interrupted)."""
    for staging in list(_live_staging):
        _discard(staging)


@contextmanager
def reserved_output_dir(out: Path) -> Iterator[Path]:
    """The staging folder of ``out`` made before the work starts (so an unwritable or refused
    ``--out`` fails before a long solve), removed if the work fails; hand it to the writer as
    ``staging``."""
    staging = prepare_output_dir(out)
    try:
        yield staging
    except BaseException:
        _discard(staging)
        raise


def _commit(staging: Path, out: Path) -> None:
    """Move ``staging`` into place as ``out``, replacing an empty folder or the planner's own (the
    previous one is renamed aside first, so a failure leaves the old or the new folder, not half)."""
    with native_section():  # not cut in half by a signal; it is honoured once the folder is in place
        raise_if_stopped()  # a signal that code on the way swallowed (catching every exception) stops it here
        try:
            check_output_dir(out)
        except InputError as refused:  # something of the user's came into --out while the run worked
            raise InputError(f"{refused}{_kept_aside(staging, out)}") from None
        old = None
        try:
            write_manifest(staging)
            if out.is_dir():
                staging.chmod(stat.S_IMODE(out.stat().st_mode))  # a folder made private stays private
            if out.is_dir() and is_planner_output(out):
                old = staging.with_name(staging.name + "-old")
                os.rename(out, old)
                _back_if_touched(old, out)
            elif out.is_dir():
                out.rmdir()  # empty (checked above)
            os.replace(staging, out)
        except InputError as refused:  # a file of the user's saved into --out as it was being moved aside
            raise InputError(f"{refused}{_kept_aside(staging, out)}") from None
        except OSError as error:
            if old is not None and not out.exists():
                os.rename(old, out)  # the previous folder back in its place
            raise InputError(f"{out}: cannot move the finished folder into place ({error.strerror}); "
                             f"choose another --out{_kept_aside(staging, out)}") from None
        _live_staging.discard(staging)
        _created_parents.pop(staging, None)
        if not any(out.absolute().is_relative_to(outer.absolute()) for outer in _live_staging):
            note_kept(f"{out} written in full")  # not a folder inside another still being written
        if old is not None:
            _remove_moved_aside(old, out)


def _back_if_touched(old: Path, out: Path) -> None:
    """The previous output, just moved aside to ``old``, checked again: a file saved into it since the check
    before (the new folder's files are hashed in between, seconds for a large GeoPackage) is put back in its
    place with the folder and refused, rather than deleted with it."""
    try:
        touched = not_written_by_planner(old) + changed_since_written(old)
    except InputError:
        touched = ["the folder (cannot be read)"]
    if touched:
        os.rename(old, out)
        raise InputError(f"{out}: {truncated(touched)} changed or came into the folder while the run moved its "
                         "results into place; nothing was changed; move what you want to keep out of the folder or "
                         "choose another --out")


KEPT_ASIDE_TRIES = 100  # names <out>-1 ... tried for a finished folder that cannot take its place


def _kept_aside(staging: Path, out: Path) -> str:
    """Where the finished folder cannot replace ``out`` (a file of the user's appeared in it during the run,
    the rename failed), it is moved to the first free name ``<out>-1``, ``<out>-2``, ... beside it rather than
    discarded with the run's work: the end of the error's line naming it ('' where it cannot be)."""
    for number in range(1, KEPT_ASIDE_TRIES + 1):
        kept = out.with_name(f"{out.name}-{number}")
        if kept.exists() or kept.is_symlink():
            continue
        try:
            write_manifest(staging)  # a whole output of the planner's: a later run may replace it
            os.rename(staging, kept)  # a new name beside it: nothing of anyone's is replaced
        except OSError:
            return ""
        _live_staging.discard(staging)
        _created_parents.pop(staging, None)
        return f"; this run's results are kept in {kept}"
    return ""


def _remove_moved_aside(old: Path, out: Path) -> None:
    """Remove the previous output ``old`` that ``out`` replaced; where a file in it cannot be deleted (a
    locked or read-only file), the rest goes and a warning names the folder left."""
    try:
        shutil.rmtree(old)
    except OSError as error:
        shutil.rmtree(old, ignore_errors=True)
        if old.exists():
            logger.warning("%s: the previous output, moved aside to %s, could not be removed in full (%s: %s); "
                           "delete it by hand", out, old, Path(error.filename or old).name, error.strerror)


@contextmanager
def staged_folder(out: Path, staging: Path | None = None) -> Iterator[Path]:
    """Yield a marked temporary folder beside ``out``; on success it replaces ``out`` (see
    :func:`check_output_dir`), on failure it is removed; a full disk is raised as an OSError naming
    ``out``."""
    out = Path(out)
    staging = staging or prepare_output_dir(out)
    try:
        yield staging
        _commit(staging, out)
    except BaseException as error:
        _discard(staging)
        full, denied = full_disk_cause(error), write_denied_cause(error)
        previous = f"the previous outputs in {out} are unchanged" if is_planner_output(out) else "nothing was written"
        if full is not None:  # named by --out: a library's error names no file, or the staging folder's
            full_out = OSError(full.errno, full.strerror, str(out))
            if is_planner_output(out):
                full_out.add_note(previous)  # the CLI's line says so
            raise full_out from error
        if denied is not None and isinstance(error, Exception) and not isinstance(error, InputError):
            name = Path(denied.filename).name if denied.filename else "a file"  # in the staging folder
            raise InputError(f"{out}: cannot write the outputs ({denied.strerror} writing {name}); {previous}; make "
                             "the folder writable or choose another --out") from error
        raise


@contextmanager
def folder_in_place(out: Path) -> Iterator[Path]:
    """An output folder written in place over many steps (a sweep, which a rerun resumes): checked
    like any output folder, created and marked. On failure the staging folders left inside (by killed
    workers) are removed, and so is the folder when this run created it and nothing was finished in it (an
    existing empty folder it marked is left empty again).
    A folder of the planner's that holds a single solve's outputs (``summary.json``) is refused: written
    in place, its old files would stay beside the new ones."""
    out = Path(out)
    check_output_dir(out, in_place=True)
    if is_planner_output(out) and (_lists_its_files(out) or (out / "summary.json").is_file()):
        raise InputError(f"{out}: holds the outputs of another planner command (a solve's, compare's, pareto's "
                         "or alternatives'); choose another --out (or remove that folder)")
    created = not out.exists()
    made = missing_folders(out.absolute().parent)
    marked = False  # this run marked an existing empty folder: on failure it is left empty again
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not is_planner_output(out):
            write_marker(out)
            marked = True
    except OSError as error:
        remove_if_empty([out, *made] if created else made)
        raise InputError(f"{out}: output folder is not writable ({error.strerror}); choose another --out") from None
    try:
        yield out
    except BaseException:
        for folder in [out, *(p for p in out.iterdir() if p.is_dir() and not p.is_symlink())]:
            remove_stale_staging(folder)
        if not _holds_nothing_but_the_marker(out):
            note_kept(f"what was finished is kept in {out} (a rerun goes on from it)")
        elif created:
            _remove_unless_shared(out)
            remove_if_empty(made)
        elif marked:  # the user's empty folder, as it was (a marker left in it would let a later run overwrite)
            for child in out.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                elif child.name == MARKER:
                    child.unlink(missing_ok=True)
        raise


TOP_FILE_LINE = "top-content "  # a file written in place beside the marker (sweep.csv), with its digest


def record_top_files(folder: Path, names: tuple[str, ...]) -> None:
    """Record in the marker of a folder written in place the digest of each of ``names`` now in it (the
    earlier record replaced), for :func:`check_top_files` on the next run; the marker is replaced whole."""
    record_marker_lines(folder, TOP_FILE_LINE, [f"{_content_digest(Path(folder) / name)} {name}" for name in names
                                                if (Path(folder) / name).is_file()])


def marker_lines(folder: Path, prefix: str) -> list[str]:
    """The values of the marker's lines of ``folder`` that start with ``prefix`` (none where it has no marker)."""
    try:
        text = (Path(folder) / MARKER).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.removeprefix(prefix) for line in text.splitlines() if line.startswith(prefix)]


def record_marker_lines(folder: Path, prefix: str, values: list[str]) -> None:
    """Replace the marker's lines of ``folder`` that start with ``prefix`` by one per value; the marker is
    replaced whole (written beside it and moved into place)."""
    marker = Path(folder) / MARKER
    kept = [line for line in marker.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
            if not line.startswith(prefix)]
    kept += [f"{prefix}{value}\n" for value in values]
    partial = marker.with_name(f"{MARKER}-new")
    try:
        partial.write_text("".join(kept), encoding="utf-8")
        os.replace(partial, marker)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


def check_top_files(folder: Path, names: tuple[str, ...]) -> None:
    """Raise :class:`InputError` (nothing touched) where one of ``names`` in the marked ``folder`` is not what
    the planner last recorded writing there (:func:`record_top_files`): changed since, or put there by
    someone else; a rerun would replace or remove it. A marker with no record (an older planner's) is
    taken as it is."""
    folder = Path(folder)
    try:
        lines = (folder / MARKER).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    recorded = dict(line.removeprefix(TOP_FILE_LINE).split(" ", 1)[::-1] for line in lines
                    if line.startswith(TOP_FILE_LINE) and " " in line.removeprefix(TOP_FILE_LINE))
    if not any(line.startswith(TOP_FILE_LINE) for line in lines):
        return  # nothing recorded: a new folder, or an older planner's
    changed = [name for name in names if (folder / name).is_file()
               and (name not in recorded or not _unchanged(folder / name, recorded[name]))]
    if changed:
        raise InputError(f"{folder}: {truncated(changed)} changed since the planner wrote "
                         f"{'it' if len(changed) == 1 else 'them'} (or {'was' if len(changed) == 1 else 'were'} put "
                         f"there); a rerun would replace {'it' if len(changed) == 1 else 'them'}; nothing was changed; "
                         "move what you want to keep out of the folder or choose another --out")


def _remove_unless_shared(folder: Path) -> None:
    """Remove the folder this run created and finished nothing in: its empty folders and its marker, unless
    something else is left in it (another run into the same folder, still writing its staging folders:
    removed whole, that run had failed on its files and its folder lost the marker a rerun needs)."""
    for root, folders, _ in os.walk(folder, topdown=False):
        for name in folders:
            with contextlib.suppress(OSError):
                (Path(root) / name).rmdir()  # empty ones only
    try:
        if [child.name for child in folder.iterdir()] == [MARKER]:
            (folder / MARKER).unlink()
            folder.rmdir()
    except OSError:
        pass


def _holds_nothing_but_the_marker(folder: Path) -> bool:
    """Only the marker file, empty folders and staging folders below ``folder``: a staging folder is unfinished
    work by its name (a finished output is renamed), so a sweep interrupted while a worker was still writing one
    had said "what was finished is kept" with nothing finished."""
    for root, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not is_staging_name(name)]
        if any(name != MARKER or Path(root) != Path(folder) for name in files):
            return False
    return True


TABLES_AND_MAPS_PHASE = "write_tables_and_maps"  # the write phase as far as the workbook and report can know it


def write_outputs(
    run: Run,
    inputs: Inputs,
    out: Path,
    sources: dict[str, Any] | None = None,
    warnings_seen: list[str] | None = None,
    staging: Path | None = None,
    basemap: bool = False,
    extras: tuple[ExtraOutput, ...] = (),
    finish: Callable[[Path], None] | None = None,
) -> dict[str, Any]:
    """Write summary.json, sites/flows/regions CSV, results.xlsx, network.gpkg, map.png/.svg/.pdf,
    map.html (offline unless ``basemap``) and report.html; return the summary (its timing has a ``write`` phase,
    every output included; the workbook and the report, written before it ends, show the phase
    ``TABLES_AND_MAPS_PHASE`` instead; the ``run`` itself is left as it is). ``finish``, if given, is called
    with the staging folder once everything is in it, before it is moved into place.

    ``extras`` (from ``--scenarios`` or ``--periods``) add their block to summary.json, their files
    and their section of report.html. ``sources``: the input files and options for summary.json's
    ``inputs`` (the command's ``solve_sources``; by default what ``inputs`` say: ``data_sources``);
    ``warnings_seen``: the warnings of the whole run, by default the run's own (``Run.warnings``, from loading
    on where ``planner.pipeline.plan`` made it)."""
    out = Path(out)
    _check_same_data(run, inputs)
    sources = sources if sources is not None else data_sources(inputs)
    warnings_seen = warnings_seen if warnings_seen is not None else list(run.warnings)
    started = time.perf_counter()
    run = with_region_names(run, inputs)  # the names beside the ids, in every table written
    logger.info("write ...")  # the tables, maps, workbook and report: 20 s and more at 40,000 regions
    with staged_folder(out, staging) as staging:
        regions, sites, flows = _write_tables(run, inputs, staging)
        title = _map_title(run, extras)
        supply = {"suppliers": supplier_layer(run), "inbound": inbound_layer(run)}  # None without suppliers
        draw_maps(regions, sites, flows, run.problem.type_ids, title, staging, **supply)
        write_interactive_map(
            regions, sites, flows, run.problem.type_ids, title, staging / "map.html",
            basemap=basemap, currency=run.problem.currency, kind=run.problem.objective_kind, **supply,
        )
        so_far = time.perf_counter() - started
        written = dataclasses.replace(run, timing=run.timing.with_phase(TABLES_AND_MAPS_PHASE, so_far))
        summary = build_summary(written, sources, warnings_seen)
        _write_extras(extras, summary, staging)
        write_solve_workbook(staging / WORKBOOK, written, summary)
        write_report(
            written, regions, sites, flows, summary, staging / "report.html", map_png=staging / "map.png",
            extra_sections=tuple(extra.section for extra in extras),
        )
        summary["timing"].pop(TABLES_AND_MAPS_PHASE)
        summary["timing"]["write"] = round(time.perf_counter() - started, 4)
        (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if finish is not None:
            finish(staging)
    logger.info("wrote %s", out)
    return summary


def _check_same_data(run: Run, inputs: Inputs) -> None:
    """Refuse ``inputs`` of other data than ``run`` was solved on (another plan's, reused in a loop): its
    regions, in order, are the run's (else network.gpkg and the maps had shown other regions than the tables)."""
    ids = [str(region) for region in inputs.regions["region_id"]]
    if ids != [str(region) for region in run.problem.region_ids]:
        raise InputError(f"write_outputs: the inputs hold {len(ids):,} regions that are not the "
                         f"{run.problem.n_regions:,} the run was solved on; pass the run and the inputs of the same "
                         "plan (result.run, result.inputs)")


def _write_tables(run: Run, inputs: Inputs, staging: Path):
    """sites/flows/regions/coverage CSV and the three layers of network.gpkg; returns the layers."""
    run.tables.sites.to_csv(staging / "sites.csv", index=False)
    run.tables.flows.to_csv(staging / "flows.csv", index=False)
    run.tables.regions.to_csv(staging / "regions.csv", index=False)
    run.tables.coverage_curve().to_csv(staging / "coverage.csv", index=False)
    if run.tables.inbound is not None:
        run.tables.inbound.to_csv(staging / "inbound_flows.csv", index=False)
    regions, sites, flows = region_layer(run, inputs), site_layer(run), flow_layer(run)
    inbound = inbound_layer(run)
    for name, layer in (("regions", regions_for_gis(regions)), ("sites", sites),
                        ("flows", lines_for_gis(flows)),
                        ("inbound", None if inbound is None else lines_for_gis(inbound)),
                        ("suppliers", supplier_layer(run))):
        if layer is not None:
            write_gis_layer(layer, staging / "network.gpkg", name, EMPTY_LAYER_TYPE.get(name))
    return regions, sites, flows


FULL_DISK_BYTES = 1 << 20  # free space below this when a GIS write fails: the disk is full


EMPTY_LAYER_TYPE = {"sites": "Point", "flows": "LineString", "inbound": "LineString", "suppliers": "Point"}


def write_gis_layer(layer, path: Path, name: str, empty_type: str | None = None) -> None:
    """``layer`` into the GeoPackage ``path``, declared of geometry type ``empty_type`` where it has no
    geometry (no row, or only null ones: a GIS library cannot tell such a layer's type and writes
    'Unknown'); a failure of the GIS library's (its own error types, no errno) on a disk with almost no
    space left is the OSError it is (a full disk had been an internal error: 'Failed to commit
    transaction')."""
    no_geometry = not len(layer) or layer.geometry.isna().all()  # every flow 0 km: all null, as none
    declared = {"geometry_type": empty_type} if empty_type is not None and no_geometry else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            layer.to_file(path, layer=name, driver="GPKG", **declared)
    except Exception as error:
        if isinstance(error, OSError) or not _nearly_full(path.parent):
            raise
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from error


FULL_DISK_INODES = 16  # fewer free inodes than this: the GeoPackage's journal and temporary files find none


def _nearly_full(folder: Path) -> bool:
    """Almost no bytes, or almost no inodes (files), left on the device of ``folder`` (a device out of inodes
    had made the GeoPackage writer's SQL fail, an internal error, not "no space left")."""
    if shutil.disk_usage(folder).free < FULL_DISK_BYTES:
        return True
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs (Windows)
        return False
    return stats.f_files > 0 and stats.f_favail < FULL_DISK_INODES


def _map_title(run: Run, extras: tuple[ExtraOutput, ...] = ()) -> str:
    """The maps' title, as the report's: with a study (``--scenarios``, ``--periods``) its status and gap
    beside those of the network shown (a study stopped at its gap limit had been titled "optimal", the
    status of its network evaluated alone)."""
    report = run.report
    measured = measured_text(report.objective, run.problem.currency, objective_kind_block(run))
    levels = "".join(f"; {service_text(level)}" for level in run.tables.service_levels(run.problem))
    summary = {"status": report.status.value, "mip_gap": report.mip_gap, "best_bound": report.best_bound}
    for extra in extras:
        summary[extra.key] = extra.block
        join_study_status(summary, extra)
    return report_title(run.problem.name, summary, measured) + levels


STATUS_STRENGTH = ("optimal", "gap_limit", "limit", "time_limit")  # the later, the less proven


def weakest_status(statuses: list[str]) -> str:
    """The least proven of ``statuses`` (an unknown one, e.g. ``infeasible``, counts as least)."""
    return max(statuses, key=lambda s: STATUS_STRENGTH.index(s) if s in STATUS_STRENGTH else len(STATUS_STRENGTH))


def _write_extras(extras: tuple[ExtraOutput, ...], summary: dict[str, Any], staging: Path) -> None:
    """Each extra's files into ``staging`` and its block (and view) into ``summary``. A study's own
    status (the stochastic or rollout optimum's) joins the top-level ``status``, which becomes the
    least proven of the two: the tables show the study's network evaluated, whose own status (often
    ``optimal``, the network being fixed) goes to ``evaluation_status``; a study stopped at its time
    limit is never called optimal. Where the study's status is the weaker, the top-level gap is the
    study's too and the top-level bound none (the study's bound is of its own objective, in its
    block); the evaluation's gap and bound go to ``evaluation_mip_gap`` and ``evaluation_best_bound``.
    A status beside a gap of another run read "time_limit (gap 0.000%)". Where the view is a slice of the
    study's solution, not solved again (``evaluated`` False: a rollout's last period), there is no
    evaluation: its three keys are None and the top-level status and gap are the study's (an evaluation
    status "gap_limit" with no gap had been copied from the study)."""
    for extra in extras:
        for name, content in extra.files.items():
            if isinstance(content, bytes):
                (staging / name).write_bytes(content)
            else:
                content.to_csv(staging / name, index=False)
        summary[extra.key] = clean_for_json(extra.block)
        if extra.view:
            summary["view"] = extra.view
        join_study_status(summary, extra)


def join_study_status(summary: dict[str, Any], extra: ExtraOutput) -> None:
    """The study's status into ``summary`` (its ``status``, ``mip_gap``, ``best_bound``): see
    :func:`_write_extras`."""
    if isinstance(extra.block.get("status"), str):
        evaluation = {key: summary.get(key) if extra.evaluated else None for key in ("status", "mip_gap", "best_bound")}
        for key, value in evaluation.items():
            summary.setdefault(f"evaluation_{key}", value)
        summary["status"] = weakest_status([summary["status"], extra.block["status"]])
        if summary["status"] != summary["evaluation_status"]:  # the study's: its gap, of its own objective
            summary["mip_gap"], summary["best_bound"] = extra.block.get("mip_gap"), None
            if "termination" in summary and extra.evaluated:  # the evaluation's "Optimal" beside the study's limit
                summary["evaluation_termination"] = summary["termination"]
                summary["termination"] = (f"the study ({extra.key}) ended at {summary['status']}; its gap is of its "
                                          f"own objective, whose bound is in the {extra.key} block")


def each_runs_warnings(warnings_seen: list[str], runs: list) -> list[list[str]]:
    """Per run, the study's warnings (in their order) less those only other runs logged (``Run.warnings``)."""
    logged_by_runs = {warning for run in runs for warning in run.warnings}
    return [[warning for warning in warnings_seen if warning not in logged_by_runs or warning in run.warnings]
            for run in runs]


def write_run_folders(staging: Path, subfolder: str, runs: list[tuple[str, Any, dict]], inputs: Inputs,
                      sources: dict[str, Any], warnings_seen: list[str]) -> list[str]:
    """Write one solve folder per ``(name, run, extra sources)`` into ``staging/subfolder``; returns
    their paths relative to ``staging`` (used by ``pareto`` and ``alternatives``). Each folder's
    ``summary.json`` holds the study's warnings but those another run logged while it was solved
    (``Run.warnings``): one point's gap warning had been in every point's summary."""
    (staging / subfolder).mkdir()
    for (name, run, extra), own in zip(runs, each_runs_warnings(warnings_seen, [run for _, run, _ in runs]),
                                       strict=True):
        write_outputs(run, inputs, staging / subfolder / name, {**sources, **extra}, own)
    return [f"{subfolder}/{name}" for name, _, _ in runs]
