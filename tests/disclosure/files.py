"""What an intruder holding copies of the database files can do with them (SQLite).

``copy_files`` takes the files as a backup or a stolen disk would hold them at one moment
(the main file and its write-ahead log). ``states_in_log`` replays the log one committed
transaction at a time, as SQLite itself would read a log cut after that commit, so that each
transaction still in the log can be inspected on its own: what changed between two
consecutive states is exactly what one transaction wrote.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url

T = TypeVar("T")
WAL_HEADER = 32
FRAME_HEADER = 24


def database_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def copy_files(url: str, folder: Path) -> Path:
    """Copy the SQLite database and its ``-wal`` file (if any) into ``folder``; the copy's path."""
    source = database_path(url)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + "-wal"))
    return target


def wal_bytes(copy: Path) -> bytes:
    wal = copy.with_name(copy.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def commit_ends(wal: bytes) -> list[int]:
    """The byte offsets at which each transaction in a write-ahead log ends (its commit frame).

    Frames follow the 32-byte header, each a 24-byte header (page number, database size
    after commit or 0, the log's two salts, checksums) and one page; a frame whose salts
    differ from the header's is left over from before the log was last reset.
    """
    if len(wal) < WAL_HEADER:
        return []
    page_size = struct.unpack(">I", wal[8:12])[0]
    salts = wal[16:24]
    ends = []
    offset = WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(wal):
        _, committed = struct.unpack(">II", wal[offset : offset + 8])
        if wal[offset + 8 : offset + 16] != salts:
            break
        offset += FRAME_HEADER + page_size
        if committed:
            ends.append(offset)
    return ends


def states_in_log(
    copy: Path, scratch: Path, read: Callable[[sqlite3.Connection], T]
) -> Iterator[T]:
    """``read`` applied to the database as it stood after each transaction still in the log."""
    wal = wal_bytes(copy)
    for number, end in enumerate(commit_ends(wal)):
        folder = scratch / f"state-{number}"
        folder.mkdir(parents=True)
        target = folder / copy.name
        shutil.copyfile(copy, target)
        target.with_name(target.name + "-wal").write_bytes(wal[:end])
        with sqlite3.connect(target) as connection:
            yield read(connection)
        connection.close()


def contains(copy: Path, needle: bytes) -> bool:
    """Whether the bytes occur anywhere in the copied files (main file or log)."""
    return needle in copy.read_bytes() or needle in wal_bytes(copy)
