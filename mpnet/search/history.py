"""The per-generation record of a search run, as rows; CSV and JSON out (search stage; pure Python)."""
import csv
import io
import os
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

__all__ = ["Record", "History", "atomic_write"]


@dataclass
class Record:
    """One generation. Fitness columns are the task's; sizes count hidden neurons and enabled connections;
    times are seconds (``compile``: building the batched Network; ``forward``: the task's scoring passes)."""
    generation: int
    evaluations: int            # networks evaluated so far, this generation included
    best_fitness: float         # of this generation
    mean_fitness: float
    best_ever: float
    solved: bool                # some network of this generation met the task's criterion
    species: int                # species after breeding the next generation
    threshold: float            # the compatibility threshold used to speciate it
    mean_hidden: float
    mean_connections: float
    best_hidden: int
    best_connections: int
    t_ask: float                # genomes -> topologies
    t_compile: float
    t_finetune: float
    t_forward: float
    t_tell: float               # selection, breeding, speciation
    t_generation: float         # the whole generation, wall clock

    #: columns that depend on the machine's speed, not on the run (left out when comparing runs)
    TIMINGS = ("t_ask", "t_compile", "t_finetune", "t_forward", "t_tell", "t_generation")


class History:
    """The records of a run, generation by generation.

    Args:
        records: the generations so far, in order (none: an empty history).
    """

    def __init__(self, records: Optional[Sequence[Record]] = None) -> None:
        self.records: List[Record] = list(records or [])

    def append(self, record: Record) -> None:
        """Add the next generation's record.

        Args:
            record: the generation after the last one recorded.
        """
        self.records.append(record)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __getitem__(self, i: int) -> Record:
        return self.records[i]

    def column(self, name: str) -> List[Any]:
        """One field of every record, in generation order.

        Args:
            name: a field of :class:`Record` (e.g. ``"best_fitness"``).

        Returns:
            One value per generation.

        Raises:
            AttributeError: ``name`` is no field of :class:`Record`.
        """
        return [getattr(r, name) for r in self.records]

    def to_dicts(self, timings: bool = True) -> List[Dict[str, Any]]:
        """The records as plain dicts (field name to value), one per generation.

        Args:
            timings: keep the columns that depend on the machine's speed (``Record.TIMINGS``).

        Returns:
            One dict per generation, as :meth:`from_dicts` reads them.
        """
        rows = [asdict(r) for r in self.records]
        if not timings:
            for row in rows:
                for k in Record.TIMINGS:
                    row.pop(k)
        return rows

    @classmethod
    def from_dicts(cls, rows: Sequence[Mapping[str, Any]]) -> "History":
        """The history :meth:`to_dicts` (with timings) wrote.

        Args:
            rows: one mapping of every :class:`Record` field per generation.

        Returns:
            A new history.

        Raises:
            TypeError: a row lacks a field or names an unknown one.
        """
        return cls([Record(**row) for row in rows])

    def to_csv(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write one row per generation (atomically: a temporary file, then a rename).

        Args:
            path: the CSV file to write (replaced if it exists); a header row names the columns.
        """
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        names = [f.name for f in fields(Record)]
        writer.writerow(names)
        for r in self.records:
            writer.writerow([_fmt(getattr(r, n)) for n in names])
        atomic_write(path, buf.getvalue())

    def __repr__(self) -> str:
        if not self.records:
            return "History(generations=0)"
        last = self.records[-1]
        return f"History(generations={len(self)}, best_ever={last.best_ever:.4g}, evaluations={last.evaluations})"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def atomic_write(path: Union[str, "os.PathLike[str]"], text: str) -> None:
    """Write ``text`` to ``path`` so that a reader (or a crash) sees the old file or the new one, never a
    part: a temporary file in the same folder, flushed to disk, then renamed over ``path``.

    Args:
        path: the file to write (replaced if it exists).
        text: its new content.

    Raises:
        OSError: the folder cannot be written.
    """
    where = os.fspath(path)
    tmp = f"{where}.{os.getpid()}.{os.urandom(6).hex()}.tmp"   # per process and call: writers never share one
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, where)
