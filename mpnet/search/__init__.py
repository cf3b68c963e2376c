"""Topology search: NEAT over mpnet topologies, each generation evaluated in one batched pass, with optional
Lamarckian fine-tuning (gradient steps on the whole batched population, written back into the genomes).

    from mpnet import search
    algo = search.NEAT(n_inputs=2, n_outputs=1, population=150, seed=0)
    result = search.run(algo, search.tasks.XOR(), generations=100, finetune=search.Finetune(steps=20, lr=0.05))
    result.best.topology.save("xor_best.json"); result.history.to_csv("xor.csv")

The flow: genomes (:mod:`.genome`, :mod:`.operators`) -> :class:`NEAT` (ask / tell) -> topologies ->
an evaluator (one batched ``mpnet.Network`` per generation, :mod:`.evaluate`) scores them on a task
(:mod:`.tasks`, :mod:`.pole`) -> the runner (:func:`run`, :func:`resume`) records, reports and checkpoints.
"""
from . import tasks
from . import pole   # registers the "pole-nv" task (double pole balancing without velocities)
from .config import NEATConfig
from .evaluate import Evaluation, Evaluator, Finetune, LocalEvaluator
from .genome import Genome
from .history import History, Record
from .neat import NEAT, Individual
from .neat_arrays import ArrayNEAT   # registers breeding="arrays" with NEAT
from .reporters import CSVReporter, ProgressBar, Reporter, plot_history
from .ray_evaluator import RayEvaluator
from .runner import Result, check_fit, checkpoint_task, resume, run

__all__ = ["NEAT", "NEATConfig", "run", "resume", "Finetune", "tasks", "pole", "Result", "Individual", "History", "Record",
           "Evaluator", "Evaluation", "LocalEvaluator", "RayEvaluator", "Reporter", "ProgressBar", "CSVReporter",
           "plot_history", "check_fit", "checkpoint_task", "Genome"]
