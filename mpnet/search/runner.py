"""The runner: algorithm, task and evaluator apart, talking through ``ask()`` / ``tell(fitness)``; it checks that
they fit before the first generation, records the history, calls the reporters and writes checkpoints. What
it asks of an algorithm and what it returns are types of their own (:mod:`~mpnet.search.contract`).
"""
import contextlib
import importlib.util
import os
import sys
import time
import warnings
from typing import ContextManager, Optional, Sequence, Union

from ..checks import check_bool, check_int
from ..errors import ArgumentError, CheckpointError, MpnetError
from .checkpoint import CHECKPOINT, RunLock, check_state, load_checkpoint, save_checkpoint
from .contract import Algorithm, Result
from .evaluate import Evaluator, Finetune, LocalEvaluator
from .history import History, Record
from .genome import GenomeError, check_genome
from .neat import NEAT, Individual
from .neat_arrays import ArrayNEAT, check_pool
from .batch import GenomeBatch
from ..viz.draw import draw
from .reporters import ProgressBar, Reporter, plot_history
from .tasks import Task, from_dict as task_from_dict

__all__ = ["run", "resume", "check_fit", "check_genomes", "checkpoint_task", "Result", "Algorithm", "ALGORITHMS"]

#: Algorithms a checkpoint can name.
ALGORITHMS = {"NEAT": NEAT, "NEAT-arrays": ArrayNEAT}

PathLike = Union[str, "os.PathLike[str]"]


def check_fit(algorithm: Algorithm, task: Task, finetune: Optional[Finetune] = None) -> None:
    """Raise ``ValueError`` unless the parts fit: the algorithm's networks take the task's inputs and give its
    outputs, and fine-tuning is only asked of a task with data to fit.

    Args:
        algorithm: the search algorithm.
        task: the task.
        finetune: the fine-tuning asked for (None: none).

    Raises:
        TypeError: ``algorithm`` lacks ``ask``, ``tell``, ``state_dict``, ``n_inputs`` or ``n_outputs``, or
            ``task`` is not a :class:`~mpnet.search.tasks.Task`.
        ValueError: the numbers of inputs or outputs differ, or ``finetune`` with a task that has no data.
    """
    for name in ("ask", "tell", "state_dict", "n_inputs", "n_outputs"):
        if not hasattr(algorithm, name):
            raise TypeError(f"{type(algorithm).__name__} is not a search algorithm: it has no {name!r}.")
    if not isinstance(task, Task):
        raise TypeError(f"Expected a search task (got {type(task).__name__}); see mpnet.search.tasks.")
    for what in ("inputs", "outputs"):
        have, want = getattr(algorithm, f"n_{what}"), getattr(task, f"n_{what}")
        if have != want:
            raise ValueError(f"The algorithm's networks have {have} {what} but task {task.name!r} has {want}; "
                             f"build it with n_{what}={want}.")
    if finetune is not None and not task.supervised:
        raise ValueError(f"Task {task.name!r} has no data to fit, so it cannot be fine-tuned; run it with "
                         f"finetune=None.")


def run(algorithm: Algorithm, task: Task, generations: int = 100, *, finetune: Optional[Finetune] = None,
        evaluator: Optional[Evaluator] = None, reporters: Sequence[Reporter] = (),
        checkpoint_dir: Optional[PathLike] = None, checkpoint_every: int = 1, progress: Optional[bool] = None,
        stop_when_solved: bool = True) -> Result:
    """Evolve ``algorithm`` on ``task`` for up to ``generations`` generations.

    Args:
        algorithm: e.g. :class:`~mpnet.search.NEAT`.
        task: e.g. :class:`~mpnet.search.tasks.XOR`.
        generations: the last generation is ``generations - 1``.
        finetune: Lamarckian fine-tuning each generation (None: pure neuroevolution).
        evaluator: :class:`~mpnet.search.LocalEvaluator` (default) or :class:`~mpnet.search.RayEvaluator`.
        reporters: called after every generation.
        checkpoint_dir: where ``checkpoint.json`` (every ``checkpoint_every`` generations and at the end),
            ``history.csv``, ``best.json`` and, at the end, ``fitness.png`` and ``best.png`` go.
        progress: a progress bar (None: when stderr is a terminal).
        stop_when_solved: stop after the first generation in which a network meets the task's criterion.

    Returns:
        What the run found, with its history.

    Raises:
        ValueError: the parts do not fit (:func:`check_fit`).
        ArgumentError: ``generations`` or ``checkpoint_every`` not an int >= 1, ``stop_when_solved`` not a bool.
        FileExistsError: ``checkpoint_dir`` already holds a checkpoint (use :func:`resume`).
        RunLockedError: another live process runs in ``checkpoint_dir``.

    Example:
        >>> from mpnet import search
        >>> algo = search.NEAT(n_inputs=2, n_outputs=1, population=20, seed=0)
        >>> result = search.run(algo, search.tasks.XOR(), generations=3)
        >>> result.generations, result.evaluations, len(result.history)
        (3, 60, 3)
        >>> result.best.topology.inputs, result.best.fitness <= 4.0     # XOR's fitness: 4 - sum(err^2)
        (('x0', 'x1'), True)
    """
    check_fit(algorithm, task, finetune)
    generations = check_int(generations, "generations", min=1)
    stop_when_solved = check_bool(stop_when_solved, "stop_when_solved")
    with _locked(checkpoint_dir):
        if checkpoint_dir is not None and os.path.exists(os.path.join(os.fspath(checkpoint_dir), CHECKPOINT)):
            raise FileExistsError(f"{os.fspath(checkpoint_dir)!r} already holds a checkpoint; continue it with "
                                  f"search.resume({os.fspath(checkpoint_dir)!r}) or choose another directory.")
        return _loop(algorithm, task, generations, finetune, evaluator, reporters, checkpoint_dir, checkpoint_every,
                     progress, stop_when_solved, History(), None, None, 0.0)


def _locked(checkpoint_dir: Optional[PathLike]) -> ContextManager[object]:
    """The run directory's lock (nothing without a directory)."""
    return RunLock(checkpoint_dir) if checkpoint_dir is not None else contextlib.nullcontext()


def resume(checkpoint_dir: PathLike, generations: Optional[int] = None, *, evaluator: Optional[Evaluator] = None,
           reporters: Sequence[Reporter] = (), checkpoint_every: int = 1, progress: Optional[bool] = None) -> Result:
    """Continue the run saved in ``checkpoint_dir`` from its last checkpoint, to its planned number of
    generations (or ``generations``). The generation after the checkpoint is the one an uninterrupted run
    would have bred.

    Args:
        checkpoint_dir: the run's directory (as given to :func:`run`).
        generations: the new generation cap (None: the run's own).
        evaluator: as for :func:`run` (evaluators are not saved).
        reporters: as for :func:`run`.
        checkpoint_every: as for :func:`run`.
        progress: as for :func:`run`.

    Returns:
        What the whole run found, its history from generation 0.

    Raises:
        FileNotFoundError: no checkpoint in ``checkpoint_dir``.
        CheckpointError: the checkpoint is damaged or edited (see :func:`~mpnet.search.checkpoint.load_checkpoint`)
            or holds a state that cannot be restored: a field of the wrong kind, genomes that disagree with the
            run's config, innovations, species or task (:func:`check_genomes`), named before any generation runs.
        RunLockedError: another live process runs in ``checkpoint_dir``.
        ArgumentError: ``generations`` is not above the generations the run has already bred (it would run
            nothing).
    """
    generations = check_int(generations, "generations", min=1, allow_none=True)
    with _locked(checkpoint_dir):
        state = load_checkpoint(checkpoint_dir)
        path = os.path.join(os.fspath(checkpoint_dir), CHECKPOINT)
        check_state(state, path)
        algo_state = state["algorithm"]
        name = algo_state.get("algorithm")
        if name not in ALGORITHMS:
            raise CheckpointError(f'{path}: invalid algorithm "{name}". Must be one of {list(ALGORITHMS)}.')
        try:
            algorithm = ALGORITHMS[name].from_state_dict(algo_state)
            task = task_from_dict(state["task"])
            finetune = None if state["finetune"] is None else Finetune(**state["finetune"])
            solution = None if state["solution"] is None else Individual.from_dict(state["solution"])
            history = History.from_dicts(state["history"])
            if isinstance(algorithm, ArrayNEAT):
                try:
                    check_pool(algorithm)
                except ValueError as err:
                    raise CheckpointError(f"{path}: the saved genome columns disagree: {err}") from None
            elif isinstance(algorithm, NEAT):
                check_genomes(algorithm, path)
            check_fit(algorithm, task, finetune)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
            if isinstance(err, MpnetError) and not isinstance(err, ValueError):
                raise
            if isinstance(err, CheckpointError):
                raise
            what = f"missing field {err}" if isinstance(err, KeyError) else f"{type(err).__name__}: {err}"
            raise CheckpointError(f"{path}: the saved run cannot be restored ({what}).") from None
        if generations is not None and generations <= algorithm.generation:
            raise ArgumentError(f"resume({os.fspath(checkpoint_dir)!r}, {generations}): the run in it has already bred "
                                f"{algorithm.generation} generations, so a cap of {generations} leaves nothing to run; "
                                f"give generations > {algorithm.generation} to continue it, or None for its own cap "
                                f"({state['generations']}).")
        return _loop(algorithm, task, state["generations"] if generations is None else generations, finetune,
                     evaluator, reporters, checkpoint_dir, checkpoint_every, progress, state["stop_when_solved"],
                     history, solution, state["evaluations_to_solve"], state["wall"])


def check_genomes(algorithm: NEAT, path: str) -> None:
    """Check that a NEAT state read from a checkpoint agrees with itself before a generation runs on it: the
    population has the configured size; every genome (and each species' representative, the best genome) has
    the algorithm's inputs and outputs, keeps the genome invariants under the run's ``feed_forward`` (no
    connection names a neuron the genome lacks, no cycle in a feed-forward run, ...), carries the innovation
    numbers of the run's table and makes a valid topology; the species' members are the population, each once.

    Raises:
        CheckpointError: naming ``path``, the genome and what disagrees.
    """
    config = algorithm.config
    population = algorithm.population
    if len(population) != config.population:
        raise CheckpointError(f"{path}: the config's population is {config.population} but the checkpoint holds "
                              f"{len(population)} genomes; they must agree (was the file edited?).")
    table = algorithm.innovations.connections
    for where, genome in ([(f"population[{i}]", g) for i, g in enumerate(population)]
                          + [(f"species {k}'s representative", s.representative)
                             for k, s in algorithm.species.items()]
                          + ([("best", algorithm.best.genome)] if algorithm.best and algorithm.best.genome else [])):
        named = f"{path}: {where} (genome {genome.key!r})"
        if (genome.n_inputs, genome.n_outputs) != (algorithm.n_inputs, algorithm.n_outputs):
            raise CheckpointError(f"{named} has {genome.n_inputs} inputs and {genome.n_outputs} outputs; the run's "
                                  f"networks have {algorithm.n_inputs} and {algorithm.n_outputs}.")
        try:
            check_genome(genome, acyclic=config.feed_forward)
        except GenomeError as err:
            loop = config.feed_forward and ("cycle" in str(err) or "self-loop" in str(err))
            hint = "; the config says feed_forward=True, which allows neither" if loop else ""
            raise CheckpointError(f"{path}: {where}: {str(err).rstrip('.')}{hint}.") from None
        for conn in genome.conns.values():
            if table.get(conn.key) != conn.innovation:
                raise CheckpointError(f"{named}: connection {conn.key} has innovation number {conn.innovation} but "
                                      f"the run's table gives {table.get(conn.key)}; they must agree.")
        try:
            genome.to_topology(config, algorithm.input_names, algorithm.output_names)
        except (MpnetError, IndexError) as err:
            raise CheckpointError(f"{named} makes no valid network: {err}") from None
    keys = [g.key for g in population]
    members = [k for s in algorithm.species.values() for k in s.members]
    if len(set(keys)) != len(keys) or sorted(members) != sorted(keys):
        raise CheckpointError(f"{path}: the species' members {sorted(members)[:8]} are not the population's genome "
                              f"keys {sorted(keys)[:8]}, each once; they must agree.")


def checkpoint_task(checkpoint_dir: PathLike) -> Task:
    """The task of the run saved in ``checkpoint_dir``.

    Args:
        checkpoint_dir: the run's directory.

    Returns:
        The task, as the run was given it.

    Raises:
        FileNotFoundError, CheckpointError: as :func:`resume`.
    """
    state = load_checkpoint(checkpoint_dir)
    path = os.path.join(os.fspath(checkpoint_dir), CHECKPOINT)
    check_state(state, path)
    try:
        return task_from_dict(state["task"])
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, MpnetError) and not isinstance(err, ValueError):
            raise
        raise CheckpointError(f"{path}: the saved task cannot be restored ({type(err).__name__}: {err}).") from None


def _loop(algorithm: Algorithm, task: Task, generations: int, finetune: Optional[Finetune],
          evaluator: Optional[Evaluator], reporters: Sequence[Reporter], checkpoint_dir: Optional[PathLike],
          checkpoint_every: int, progress: Optional[bool], stop_when_solved: bool, history: History,
          solution: Optional[Individual], evaluations_to_solve: Optional[int], wall: float) -> Result:
    check_fit(algorithm, task, finetune)
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", min=1)
    evaluator = evaluator or LocalEvaluator()
    watchers = list(reporters)
    if progress or (progress is None and _stderr_is_terminal()):
        watchers.append(ProgressBar())
    first = algorithm.generation
    for r in watchers:
        r.start(task=task, algorithm=algorithm, generations=generations, first=first)
    evaluations = history[-1].evaluations if len(history) else 0
    done = stop_when_solved and solution is not None
    gen = first
    while gen < generations and not done:
        t0 = time.perf_counter()
        topologies = algorithm.ask()
        t1 = time.perf_counter()
        ev = evaluator.evaluate(task, topologies, finetune, gen)
        t2 = time.perf_counter()
        evaluations += len(topologies)
        solvers = [i for i, s in enumerate(ev.solved) if s]
        if solvers and solution is None:
            i = max(solvers, key=lambda j: ev.fitness[j])
            topology = topologies[i] if ev.trained is None else ev.trained[i].apply(topologies[i])
            solution = Individual(topology, ev.fitness[i], gen, None)
            evaluations_to_solve = evaluations
        threshold = float(getattr(algorithm, "threshold", float("nan")))
        algorithm.tell(ev.fitness, ev.trained)
        best = _best(algorithm)
        t3 = time.perf_counter()
        top = max(range(len(ev.fitness)), key=ev.fitness.__getitem__)
        if isinstance(topologies, GenomeBatch):
            hidden, conns = topologies.sizes()          # without making a topology per genome
        else:
            hidden = [t.num_nodes - len(t.inputs) - len(t.outputs) for t in topologies]
            conns = [t.num_edges for t in topologies]
        wall += t3 - t0
        record = Record(
            generation=gen, evaluations=evaluations, best_fitness=ev.fitness[top],
            mean_fitness=sum(ev.fitness) / len(ev.fitness), best_ever=float(best.fitness),
            solved=bool(solvers), species=len(getattr(algorithm, "species", ())), threshold=threshold,
            mean_hidden=sum(hidden) / len(hidden), mean_connections=sum(conns) / len(conns),
            best_hidden=hidden[top], best_connections=conns[top], t_ask=t1 - t0,
            t_compile=ev.timings.get("compile", 0.0), t_finetune=ev.timings.get("finetune", 0.0),
            t_forward=ev.timings.get("forward", 0.0), t_tell=t3 - t2, t_generation=t3 - t0)
        history.append(record)
        for r in watchers:
            r.generation(record, history)
        gen += 1
        done = stop_when_solved and solution is not None
        if checkpoint_dir is not None and ((gen - first) % checkpoint_every == 0 or done or gen == generations):
            _save(checkpoint_dir, algorithm, task, finetune, generations, stop_when_solved, history, solution,
                  evaluations_to_solve, wall)
    result = Result(_best(algorithm), solution, history, len(history), evaluations, evaluations_to_solve, wall,
                    algorithm, task)
    if checkpoint_dir is not None:
        _pictures(checkpoint_dir, result)
    for r in watchers:
        r.end(result)
    return result


def _best(algorithm: Algorithm) -> Individual:
    """The algorithm's best individual (every algorithm has one once it was told a generation's fitness)."""
    if algorithm.best is None:
        raise RuntimeError(f"{type(algorithm).__name__} has no best individual after tell(); a search algorithm "
                           f"must keep the best network it was told about.")
    return algorithm.best


def _save(directory: PathLike, algorithm: Algorithm, task: Task, finetune: Optional[Finetune], generations: int,
          stop_when_solved: bool, history: History, solution: Optional[Individual],
          evaluations_to_solve: Optional[int], wall: float) -> None:
    save_checkpoint(directory, {
        "algorithm": algorithm.state_dict(), "task": task.to_dict(),
        "finetune": None if finetune is None else finetune.to_dict(), "generations": generations,
        "stop_when_solved": stop_when_solved, "history": history.to_dicts(),
        "solution": None if solution is None else solution.to_dict(), "evaluations_to_solve": evaluations_to_solve,
        "wall": wall})
    history.to_csv(os.path.join(directory, "history.csv"))
    (solution or _best(algorithm)).topology.save(os.path.join(directory, "best.json"))


def _pictures(directory: PathLike, result: Result) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        warnings.warn("matplotlib is not installed: no fitness.png / best.png (pip install matplotlib).")
        return
    best = result.solution or result.best
    threshold = getattr(result.task, "threshold", None)
    plot_history(result.history, os.path.join(directory, "fitness.png"),
                 title=f"{result.task.name}: {'solved' if result.solved else 'not solved'} "
                       f"after {result.evaluations} evaluations",
                 solved_at=threshold if isinstance(threshold, (int, float)) else None,
                 criterion=result.task.describe())
    draw(best.topology, os.path.join(directory, "best.png"),
         title=f"{result.task.name}: fitness {best.fitness:.4g} (generation {best.generation})")


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()
