"""What the runner and its parts agree on, as types: the :class:`Algorithm` protocol a search algorithm fits
(``ask()`` / ``tell(fitness)``, ``state_dict()``) and the :class:`Result` a run gives back (search stage).

They live apart from :mod:`~mpnet.search.runner` so that :mod:`~mpnet.search.reporters`, which the runner calls,
can name them without importing the runner.
"""
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Protocol, Sequence, Union

from ..graph.topology import Topology
from .genome import Weights
from .history import History
from .neat import Individual
from .tasks import Task

__all__ = ["Algorithm", "Result"]


class Algorithm(Protocol):
    """What the runner asks of a search algorithm (:class:`~mpnet.search.NEAT` is one): networks of
    ``n_inputs`` inputs and ``n_outputs`` outputs handed out by ``ask()``, scored through ``tell()``, the
    generation counter, the best individual so far (set by the first ``tell``) and a JSON state."""
    n_inputs: int
    n_outputs: int
    generation: int
    best: Optional[Individual]

    def ask(self) -> List[Topology]:
        """The current generation, one topology per individual.

        Returns:
            The topologies to evaluate, the same list until :meth:`tell`.
        """
        ...

    def tell(self, fitness: Sequence[float],
             trained: Optional[Sequence[Union[Topology, Weights]]] = None) -> None:
        """Take one fitness per topology of :meth:`ask` (higher is better) and breed the next generation.

        Args:
            fitness: one number per asked topology, in order.
            trained: the asked topologies after fine-tuning (or their weights), when fine-tuned.
        """
        ...

    def state_dict(self) -> Dict[str, Any]:
        """The whole state, JSON-ready (a checkpoint holds it).

        Returns:
            A dict naming the algorithm under ``"algorithm"``, from which ``from_state_dict`` restores it.
        """
        ...


@dataclass
class Result:
    """What a run found. ``best`` has the highest fitness seen; ``solution`` is the best network of the first
    generation in which one met the task's criterion (None if none did)."""
    best: Individual
    solution: Optional[Individual]
    history: History
    generations: int                        # generations run, over every session of a resumed run
    evaluations: int                        # networks evaluated (population x generations)
    evaluations_to_solve: Optional[int]     # evaluations up to and including the solving generation
    wall: float                             # seconds, over every session
    algorithm: Algorithm
    task: Task

    @property
    def solved(self) -> bool:
        """Whether some network met the task's criterion (``solution`` is set)."""
        return self.solution is not None

    def __repr__(self) -> str:
        return (f"Result(solved={self.solved}, generations={self.generations}, evaluations={self.evaluations}, "
                f"best_fitness={self.best.fitness:.4g}, wall={self.wall:.2f}s)")
