"""JSON files read strictly: every way a file can fail to be JSON becomes one error naming the file (pure
Python, beside topology; the loaders of topologies, neat-python networks and checkpoints use it).

Refused, each with the file's name in the message: a directory, bytes that are not UTF-8 text (UTF-16 is named
as such; a NUL byte means a binary file), text that is not JSON (with the line and column), an object that
names a key twice (JSON parsers silently keep the last one), and nesting too deep to read.
"""
import json
import os
from typing import Any, Dict, List, Tuple, Type, Union

from ..errors import FormatError, MpnetError
from ..graph.adapters import lend

__all__ = ["read_json", "parse_json"]


def _unique_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(Exception):
    pass


def parse_json(text: Union[str, bytes], where: str, error: Type[MpnetError] = FormatError) -> Any:
    """Parse ``text`` (from ``where``, named in every message) strictly; see the module docstring.

    Args:
        text: the file's content, as read (bytes) or already decoded (str).
        where: what the text came from (a file name), named in every message.
        error: the :class:`~mpnet.errors.MpnetError` subclass to raise.

    Returns:
        The parsed JSON value.

    Raises:
        ``error`` (default :class:`~mpnet.errors.FormatError`): naming ``where``; see the module docstring.
    """
    if isinstance(text, bytes):
        raw = text
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise error(f"{where} is UTF-16 text; JSON files must be UTF-8. Save it as UTF-8.")
        if b"\x00" in raw:
            raise error(f"{where} is a binary file (it holds NUL bytes), not JSON text.")
        if raw.startswith(b"\xef\xbb\xbf"):   # a UTF-8 byte order mark
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[:err.start].count(b"\n") + 1
            raise error(f"{where} is not UTF-8 text (byte 0x{raw[err.start]:02x} on line {line}); is it a JSON "
                        f"file?") from None
    if not text.strip():
        raise error(f"{where} is empty; expected a JSON object.")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as err:
        raise error(f"{where} is not valid JSON: {err}") from None
    except _DuplicateKey as err:
        raise error(f"{where}: an object names the key {err.args[0]!r} twice (a JSON reader would silently keep "
                    f"the last); remove one.") from None
    except RecursionError:
        raise error(f"{where} nests arrays or objects too deeply to read; it is not a file mpnet wrote.") from None


@lend("read_json")
def read_json(path: Union[str, "os.PathLike[str]"], error: Type[MpnetError] = FormatError) -> Any:
    """Read and parse the JSON file at ``path`` strictly (see the module docstring).

    Args:
        path: the file.
        error: the :class:`~mpnet.errors.MpnetError` subclass to raise.

    Returns:
        The parsed JSON value.

    Raises:
        ``error`` (default :class:`~mpnet.errors.FormatError`): naming the file.
        FileNotFoundError: no such file.
    """
    where = os.fspath(path)
    if os.path.isdir(where):
        raise error(f"{where} is a directory, not a JSON file.")
    with open(where, "rb") as f:
        raw = f.read()
    return parse_json(raw, where, error)
