"""The runs behind scripts/sign_recovery.py (not a script): random teachers, their data, and one teacher's
sign inference under each condition, every verdict scored against the teacher's signs.

Conditions (each on the same teacher, data and seed, per effort):

* ``passive``: input-output data only.
* ``designed``: the passive report's design, ``design(report, X, budget=k, kinds=("record",))``: those hidden
  neurons recorded (the teacher's activation plus the same relative noise), the inference rerun with
  ``observed=``.
* ``random``: ``k`` hidden neurons chosen at random (seeded by the teacher's seed), recorded and rerun the same
  way; a neuron's recording noise is the same draw in both conditions.
* ``probes``: ``design(report, X, budget=k, kinds=("probe",))``: its input points added to the data with the
  teacher's outputs (plus the outputs' relative noise), rerun.

Every report is checked with ``mpnet.signs.verify`` (float64, the recordings included): an edge left ``?`` counts
as *ambiguous* only when its claim is "the opposite sign fits as well" and the recomputation confirms it.
"""
import random
import time
from dataclasses import replace
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor

import mpnet
from mpnet import Network, Topology, sample
from mpnet.examples import kinks_in_data, question_teacher, simulate, unknown_weights
from mpnet.signs import Effort, SignReport, design, verify

CONDITIONS = ("passive", "designed", "random", "probes")
EFFORTS: Dict[str, Callable[[], Effort]] = {"quick": Effort.quick, "default": Effort}


# ------------------------------------------------------------------------------------------------ teachers
def random_teacher(activation: str, rng: random.Random, X_of: Callable[[int], Tensor]) -> Topology:
    """A sparse DAG (2-4 inputs, 4-9 hidden neurons, 14-30 edges, every neuron on an input-output path) whose
    biases put each neuron's kink (or centre) at a random quantile (20-80 %) of the data."""
    while True:
        n_in, n_hidden, n_edges = rng.randint(2, 4), rng.randint(4, 9), rng.randint(14, 30)
        try:
            topo = sample.random_dag(n_in, 1, n_hidden, avg_in_degree=n_edges / (n_hidden + 1),
                                     seed=rng.randrange(10**6), activation=activation, weights=True)
        except ValueError:
            continue
        lost = topo.unreachable()
        if 14 <= topo.num_edges <= 30 and not lost.unreached and not lost.dead_ends:
            return kinks_in_data(topo, X_of(n_in), seed=rng.randrange(10**6))


def question_teacher_for(activation: str) -> Topology:
    q = question_teacher()
    if activation == "relu":
        return q
    nodes = [replace(n, activation=activation) if n.role == "hidden" else n for n in q.nodes.values()]
    return Topology(nodes, list(q.edges.values()), warn=False)


def identifiable_ends(teacher: Topology, X: Tensor) -> Dict[Any, bool]:
    """``{node: bool}``: an input, an output, or a ReLU-like neuron that kinks on 5-95 % of the samples."""
    net = Network(teacher, dtype=torch.float64)
    Z, _ = net.states(X)
    out = {}
    for r, (_, node) in enumerate(net.rows):
        n = teacher.nodes[node]
        if n.role != "hidden":
            out[node] = True
        else:
            frac = float((Z[r] > 0).double().mean())
            out[node] = n.activation == "relu" and 0.05 <= frac <= 0.95
    return out


def gauged(weights: Dict, gauge: Dict) -> Dict:
    """The teacher's weights in the report's gauge: each flip neuron negated where its reference is < 0."""
    out = dict(weights)
    for ref, edges in gauge.values():
        if out[ref] < 0:
            for k in edges:
                out[k] = -out[k]
    return out


# ------------------------------------------------------------------------------------------------ measurements
def recordings(teacher: Topology, X: Tensor, neurons: List[Any], noise: float, seed: int) -> Dict[Any, Tensor]:
    """The teacher's activation of each neuron on ``X`` plus Gaussian noise of ``noise`` times its std; each
    neuron's noise is its own draw (seeded by the seed and the neuron's place), whoever else is recorded."""
    net = Network(teacher, dtype=torch.float64)
    row = {node: r for r, (_, node) in enumerate(net.rows)}
    place = {node: i for i, node in enumerate(teacher.nodes)}
    with torch.no_grad():
        _, H = net.states(X)
    out = {}
    for v in neurons:
        h = H[row[v]]
        gen = torch.Generator().manual_seed(seed * 1000 + 1 + place[v])
        out[v] = h + noise * h.std() * torch.randn(h.shape, generator=gen, dtype=h.dtype)
    return out


def probed(teacher: Topology, X: Tensor, Y: Tensor, P: Tensor, noise: float, seed: int) -> Tuple[Tensor, Tensor]:
    """The data with the probe points ``P`` added, their outputs the teacher's plus the outputs' relative noise."""
    gen = torch.Generator().manual_seed(seed * 1000)
    with torch.no_grad():
        YP = Network(teacher, dtype=torch.float64)(P)
    YP = YP + noise * Y.std(0) * torch.randn(YP.shape, generator=gen, dtype=YP.dtype)
    return torch.cat([X, P]), torch.cat([Y, YP])


# ------------------------------------------------------------------------------------------------ one teacher
def score(report: SignReport, teacher: Topology, X: Tensor, Y: Tensor, observed: Optional[Dict[Any, Tensor]],
          ends: Dict[Any, bool], before: Optional[Dict[Any, bool]], common: dict) -> List[dict]:
    """One row per free edge: the verdict against the teacher's sign, and (refit) whether a float64
    recomputation confirms the claim; ``before``: which edges the passive run called (for ``decided``)."""
    checks = {}
    if report.method == "refit":
        checks = {c.edge: c for c in verify(report, X, Y, observed=observed).checks}
    truth_rel = gauged({k: e.weight for k, e in teacher.edges.items()}, report.extra.get("gauge", {}))
    rows = []
    for key, edge in teacher.edges.items():
        r = report[key]
        if r.constraint != "free":
            continue
        symmetric = not r.identifiable and r.relative != ""
        verdict = r.relative if symmetric else r.sign
        truth = ("+" if truth_rel[key] > 0 else "-") if symmetric else ("+" if edge.weight > 0 else "-")
        check = checks.get(f"{r.src}->{r.dst}")
        called = verdict in ("+", "-")
        rows.append(dict(
            common, edges=teacher.num_edges, src=key[0], dst=key[1], truth=truth, symmetric=symmetric,
            teacher_identifiable=symmetric or (ends[key[0]] and ends[key[1]]),
            verdict=verdict, called=called, correct=verdict == truth,
            ambiguous=not called and check is not None and check.confirmed and check.claim == "fits as well",
            confirmed="" if check is None else check.confirmed,
            decided=called and before is not None and not before[key],
            best_sign="+" if r.weight > 0 else "-", confidence=r.confidence, ratio=r.ratio,
            floor_ratio=report.floor_ratio, fits=report.fits))
    return rows


def run_teacher(task: tuple) -> List[dict]:
    """Every condition of ``cfg`` at one effort on one teacher (``task``: name, activation, noise, teacher, seed,
    cfg, effort; the ensemble vote, when asked for, with the first effort); ``seconds`` are CPU seconds of this
    process, one thread (a condition's own design and rerun)."""
    name, activation, noise, teacher, seed, cfg, effort = task
    torch.set_num_threads(1)
    X, Y = simulate(teacher, cfg.samples, noise, seed=seed)
    ends = identifiable_ends(teacher, X)
    wiring = unknown_weights(teacher)
    hidden = [n for n, node in teacher.nodes.items() if node.role == "hidden"]
    base = dict(activation=activation, noise=noise, teacher=name)
    rows: List[dict] = []
    if "ensemble" in cfg.methods and effort == cfg.efforts[0]:
        t0 = time.process_time()
        report = mpnet.infer_signs(wiring, X.float(), Y.float(), method="ensemble", seed=seed,
                                   ensemble=32 if cfg.quick else 64, epochs=250 if cfg.quick else 400,
                                   lr=0.03, batch_size=128, progress=False)
        rows += score(report, teacher, X, Y, None, ends, None, dict(
            base, method="ensemble", effort="-", condition="passive", measurements=0,
            seconds=time.process_time() - t0))
    if "refit" not in cfg.methods:
        return rows

    def infer(X2: Tensor, Y2: Tensor, observed: Optional[Dict[Any, Tensor]] = None) -> SignReport:
        return mpnet.infer_signs(wiring, X2, Y2, seed=seed, effort=EFFORTS[effort](), observed=observed,
                                 progress=False)

    def add(condition: str, report: SignReport, X2: Tensor, Y2: Tensor, observed: Optional[Dict[Any, Tensor]],
            measured: int, seconds: float) -> None:
        scored = score(report, teacher, X2, Y2, observed, ends, before, dict(
            base, method="refit", effort=effort, condition=condition, measurements=measured, seconds=seconds))
        rows.extend(scored)
        if cfg.jobs == 1:     # a long run says what each condition gave as it goes (the table waits for a teacher)
            print(f"    {activation} {name} {effort} {condition}: {sum(r['called'] for r in scored)} of "
                  f"{len(scored)} called, fit {report.floor_ratio:.2f}x the noise floor; {seconds:.0f} CPU s",
                  flush=True)

    t0 = time.process_time()
    passive = infer(X, Y)
    before: Optional[Dict[Any, bool]] = None
    add("passive", passive, X, Y, None, 0, time.process_time() - t0)
    before = {r.key: (r.relative if not r.identifiable and r.relative else r.sign) in ("+", "-")
              for r in passive.edges}
    for condition in [c for c in cfg.conditions if c != "passive"]:   # the passive run is always made
        t0 = time.process_time()
        if condition == "probes":
            chosen = design(passive, X, budget=cfg.budget, kinds=("probe",), seed=seed)
            if not chosen:      # nothing to probe: the passive verdicts stand
                add(condition, passive, X, Y, None, 0, time.process_time() - t0)
                continue
            X2, Y2 = probed(teacher, X, Y, torch.cat([s.target for s in chosen]), noise, seed)
            add(condition, infer(X2, Y2), X2, Y2, None, X2.shape[0] - X.shape[0], time.process_time() - t0)
            continue
        if condition == "designed":
            neurons = [s.target for s in design(passive, X, budget=cfg.budget, kinds=("record",), seed=seed)]
        else:
            neurons = random.Random(seed).sample(hidden, min(cfg.budget, len(hidden)))
        if not neurons:
            add(condition, passive, X, Y, None, 0, time.process_time() - t0)
            continue
        observed = recordings(teacher, X, neurons, noise, seed)
        add(condition, infer(X, Y, observed), X, Y, observed, len(neurons), time.process_time() - t0)
    return rows


def teacher_tasks(cfg: Any, seed: int) -> list:
    """Per activation and noise: the question's wiring, then ``cfg.teachers`` random DAGs, each with its seed; each
    teacher at every effort before the next teacher (a long run stopped early has its teachers at every effort)."""
    rng = random.Random(seed)
    tasks = []

    def X_of(n_in: int) -> Tensor:
        return torch.rand(cfg.samples, n_in, generator=torch.Generator().manual_seed(rng.randrange(10**6)),
                          dtype=torch.float64) * 4 - 2
    for act in cfg.activations:
        for noise in cfg.noises:
            question_seed = rng.randrange(10**6)     # drawn either way: the same random teachers with or without it
            if cfg.question:
                tasks.append(("question", act, noise, question_teacher_for(act), question_seed, cfg))
            for i in range(cfg.teachers):
                tasks.append((f"dag{i}", act, noise, random_teacher(act, rng, X_of), rng.randrange(10**6), cfg))
    return [task + (effort,) for task in tasks for effort in cfg.efforts]
