"""Data tables from CSV files, every bad cell named by file, line and column (last stage, beside the CLI).

The one reader of data files in mpnet: :func:`read_columns` takes a CSV file with a header row and returns
the named columns as a tensor. What it refuses, each with the file, the line and the column in the message:
an empty file, a header naming a requested column twice, a requested column the header lacks, a row with more or fewer
cells than the header, a blank line between rows, an empty cell, a cell that is not a number, a NaN or an
infinity (or a number beyond the dtype's range), text that is not UTF-8 (UTF-16 is named as such), and a
header without data rows. Columns that are not requested may hold anything (names, dates, notes). Columns named in
``missing`` (recordings, where a sample may not have been recorded) take an empty cell or NaN as a missing value
(read as NaN); an infinity is refused there too. :func:`header` gives the column names.
"""
import csv
import io
import math
import os
from typing import List, Sequence, Tuple, Union

import torch
from torch import Tensor

from ..errors import DataError

__all__ = ["read_columns", "header"]

PathLike = Union[str, "os.PathLike[str]"]


def _text(path: str) -> str:
    if os.path.isdir(path):
        raise DataError(f"{path} is a directory, not a CSV file.")
    with open(path, "rb") as f:
        raw = f.read()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"{path} is UTF-16 text; save it as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet's Save As).")
    if raw.startswith(b"\xef\xbb\xbf"):   # a UTF-8 byte order mark, as some spreadsheets write
        raw = raw[3:]
    if b"\x00" in raw:
        line = raw[:raw.index(b"\x00")].count(b"\n") + 1
        raise DataError(f"{path} holds a NUL byte on line {line}: it is a binary file, not CSV text.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line} is not UTF-8 text (byte 0x{raw[err.start]:02x}); is this a CSV "
                        f"file? Save it as UTF-8.") from None


def _header(path: str, rows: List[Tuple[int, List[str]]], columns: Sequence[str]) -> List[int]:
    if not rows:
        raise DataError(f"{path} is empty; expected a header row naming the columns, then one row per sample.")
    line, header = rows[0]
    names = [h.strip() for h in header]
    seen = set()
    for name in names:
        if name in seen and name in columns:
            raise DataError(f"{path}: the header (line {line}) names column {name!r} twice; rename one of them.")
        seen.add(name)
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(f"{path} has no column {missing} (its columns: {names}); name the columns to read "
                        f"(e.g. with --inputs / --outputs).")
    return [names.index(c) for c in columns]


def _rows(path: str) -> List[Tuple[int, List[str]]]:
    text = _text(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)   # an open quote is an error, not a cell
    rows: List[Tuple[int, List[str]]] = []
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
    except csv.Error as err:
        raise DataError(f"{path}: line {reader.line_num} is not valid CSV ({err}).") from None
    while rows and not rows[-1][1]:   # blank lines at the end of the file
        rows.pop()
    return rows


def header(path: PathLike) -> List[str]:
    """The column names of a CSV file's header row (stripped), or a DataError for an empty or unreadable file."""
    path = os.fspath(path)
    rows = _rows(path)
    _header(path, rows, [])
    return [h.strip() for h in rows[0][1]]


def read_columns(path: PathLike, columns: Sequence[str], *, dtype: torch.dtype = torch.float32,
                 missing: Sequence[str] = ()) -> Tensor:
    """The named columns of a CSV file with a header row.

    Args:
        path: the file (UTF-8, comma-separated, a header row first).
        columns: the column names to read, in the order of the result's columns.
        dtype: of the result; a number beyond its range is refused like an infinity.
        missing: columns where an empty cell or NaN is a missing value, read as NaN (elsewhere refused).

    Returns:
        ``[rows, len(columns)]``.

    Raises:
        DataError: see the module docstring; the message names the file, the line and the column.
        FileNotFoundError: no such file.
    """
    path = os.fspath(path)
    columns = [str(c) for c in columns]
    optional = {str(c) for c in missing}
    rows = _rows(path)
    index = _header(path, rows, columns)
    width = len(rows[0][1])
    if len(rows) == 1:
        raise DataError(f"{path} has a header but no data rows; add one row per sample.")
    values: List[List[float]] = []
    lines: List[int] = []
    for line, cells in rows[1:]:
        if not cells:
            raise DataError(f"{path}: line {line} is blank, between data rows; remove it (or the rows after it, if "
                            f"two tables were joined).")
        if len(cells) != width:
            raise DataError(f"{path}: line {line} has {len(cells)} cells but the header has {width} columns; "
                            f"every row needs one cell per column.")
        row = []
        for j, c in zip(index, columns):
            cell = cells[j].strip()
            if c in optional and (not cell or cell.lower() == "nan"):
                row.append(math.nan)
                continue
            if not cell:
                raise DataError(f"{path}: line {line}, column {c!r} is empty; give a number (mpnet does not guess "
                                f"missing values), or drop the row.")
            try:
                if "_" in cell or not cell.isascii():   # float() reads '1_000' and full-width '１２'; a table does not
                    raise ValueError(cell)
                value = float(cell)
            except ValueError:
                raise DataError(f"{path}: line {line}, column {c!r} holds {cell[:40]!r}, which is not a "
                                f"number.") from None
            if not math.isfinite(value):
                raise DataError(f"{path}: line {line}, column {c!r} holds {cell[:40]!r}; every value must be finite "
                                f"(NaN often marks a missing value: fill or drop the row).")
            row.append(value)
        values.append(row)
        lines.append(line)
    out = torch.tensor(values, dtype=torch.float64).view(-1, len(columns))
    cast = out.to(dtype)
    bad = torch.isinf(cast)   # beyond the dtype's range (NaN: a missing value, where allowed)
    if bool(bad.any()):
        i, j = (int(k) for k in torch.nonzero(bad)[0])
        raise DataError(f"{path}: line {lines[i]}, column {columns[j]!r} holds {out[i, j].item():g}, beyond the "
                        f"range of {dtype}; scale the column down.")
    return cast
