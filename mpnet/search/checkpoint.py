"""Checkpoints of a search run: one JSON file, written atomically (search stage; no pickle anywhere).

The file holds the algorithm's whole state (genomes, species, innovations, the RNG's state), the task, the
fine-tuning settings and the history. Every number in it is a Python float or int, and JSON writes floats
as their shortest exact repr, so loading gives back the very same state: a resumed run breeds the same next
generation as a run never interrupted. Weights are a few floats per connection gene, so they live in the
same file; one file means one atomic rename, and a run killed at any moment leaves the previous checkpoint
or the new one, never a mix.
"""
import json
import os
from typing import Any, Dict, Mapping, Union

from .history import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT", "FORMAT", "VERSION"]

CHECKPOINT = "checkpoint.json"
FORMAT = "mpnet.search.checkpoint"
VERSION = 1


def save_checkpoint(directory: Union[str, os.PathLike], state: Mapping[str, Any]) -> str:
    """Write ``state`` to ``directory/checkpoint.json`` atomically; return the path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(os.fspath(directory), CHECKPOINT)
    atomic_write(path, json.dumps({"format": FORMAT, "version": VERSION, **state}, allow_nan=False))
    return path


def load_checkpoint(directory: Union[str, os.PathLike]) -> Dict[str, Any]:
    """Read the state written by :func:`save_checkpoint` (a leftover ``.tmp`` of a killed write is ignored).

    Raises:
        FileNotFoundError: no checkpoint in ``directory``.
        ValueError: the file is not a search checkpoint, or of a newer version.
    """
    path = os.path.join(os.fspath(directory), CHECKPOINT)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No checkpoint in {os.fspath(directory)!r} (expected {CHECKPOINT}); start a run "
                                f"with checkpoint_dir={os.fspath(directory)!r} first.")
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a search checkpoint (format {data.get('format')!r}, expected {FORMAT!r}).")
    if data.get("version") != VERSION:
        raise ValueError(f"{path} has checkpoint version {data.get('version')!r}; this mpnet reads {VERSION}.")
    return data
