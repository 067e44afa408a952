"""File-system steps shared by the writers of outputs and model files: the folders a run would make
for a path, their removal when the run fails, and the mode an ordinary new file gets."""

from __future__ import annotations

import os
from pathlib import Path

from planner.errors import InputError


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its parents that do not exist yet, nearest first: the folders a run makes for it."""
    folder = Path(folder)
    return [path for path in [folder, *folder.parents] if not path.exists()]


def remove_if_empty(folders: list[Path]) -> None:
    """Remove the folders a run made (nearest first) while they are empty: nothing half-written stays,
    nor the folders made for it. Stops at the first that is not empty (its parents are not either)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def file_mode(mode: int = 0o666) -> int:
    """``mode`` under the process's umask: what an ordinary new file (0o666) or folder (0o777) gets
    (``mkstemp`` and ``mkdtemp`` make theirs private)."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def hash_file_into(digest, path: Path, skip: int = 0) -> None:
    """Feed the bytes of ``path`` from byte ``skip`` on into ``digest`` (a ``hashlib`` object), a MiB at a time."""
    with open(path, "rb") as handle:
        handle.seek(skip)
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def refuse_unreachable(out: Path) -> None:
    """InputError where ``out`` cannot even be looked at (a folder on its way the user may not enter):
    the check of what is there had ended in an internal error 'PermissionError'; or where a folder on the way
    is a link to nothing (writing had made the folder it names, wherever that was)."""
    for above in reversed(Path(os.path.abspath(out)).parents):  # a link on the way to nowhere: not followed
        if above.is_symlink() and not above.exists():
            raise InputError(f"{out}: {above} on the way there is a link to a folder that does not exist "
                             f"({os.readlink(above)}); create that folder or choose another --out")
    try:
        os.lstat(out)
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there (a file on the way: the writers' own checks say so)
    except PermissionError:
        raise InputError(f"{out}: permission denied on the way there (a folder this user may not enter); choose "
                         "a place you can write to for --out") from None
    except OSError as error:
        raise InputError(f"{out}: cannot be reached ({error.strerror}); choose another --out") from None
