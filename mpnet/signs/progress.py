"""What :func:`mpnet.infer_signs` shows while it works: a tqdm bar on a terminal (the stage, and the edges
tested so far), and the caller's ``log`` (sign inference, around every step)."""
import sys
from typing import TYPE_CHECKING, Callable, NoReturn, Optional

if TYPE_CHECKING:   # pragma: no cover
    from tqdm import tqdm as Bar

__all__ = ["Progress"]


class Progress:
    """The progress of one sign inference.

    Args:
        show: a tqdm bar on stderr; ``None``: only when stderr is a terminal (as :func:`mpnet.fit` does).
        log: called with a line per phase (e.g. ``print``), bar or not.
    """

    def __init__(self, show: Optional[bool], log: Optional[Callable[[str], None]] = None) -> None:
        self._log = log
        self.bar: "Optional[Bar[NoReturn]]" = None   # a bar of no iterable
        if sys.stderr.isatty() if show is None else show:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=None, desc="signs: search", unit="edge", leave=False, dynamic_ncols=True)

    def log(self, message: str) -> None:
        """A line for the caller's ``log``; on the bar, the latest line beside the stage."""
        if self._log is not None:
            self._log(message)
        if self.bar is not None:
            self.bar.set_postfix_str(message[:70], refresh=True)

    def stage(self, name: str, done: int, total: int) -> None:
        """Now in stage ``name``, ``done`` of ``total`` edges tested."""
        if self.bar is not None:
            self.bar.set_description(f"signs: {name}", refresh=False)
            self.bar.total = total
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
