"""Sign inference on real wiring: can stimulus-response data recover the signs of C. elegans synapses?

A teacher network runs on a slice of the shipped connectome (mpnet/data/celegans/cook2019_herm.json): sensory
neurons driven, interneurons hidden, head motor neurons read out, gap junctions as tied conductances. Its
chemical signs come from the presynaptic transmitter (acetylcholine +, GABA -); glutamate edges, betaine and
mixed-transmitter edges get a sign drawn at random (the data will have to tell). Magnitudes come from the synapse
counts (mpnet.connectome.count_weights: 0.5 log(1 + synapses) / sqrt(fan-in), conductances 0.05 log(1 +
junctions)) times a random gain per pair of neuron classes (log-normal, sd 0.5), so the students' model class
does not hold the teacher's magnitudes. The teacher's responses to random stimulus sequences, plus Gaussian
observation noise (sd a stated fraction, default 5 %, of each output's standard deviation), are the data.

Then every chemical sign is hidden and an ensemble of students (one batched mpnet Network, each member from its
own random start, same wiring, gap conductances constrained >= 0 but learned) is fitted to the responses with
mpnet.fit on sequences. An edge's inferred sign is the majority sign over the members that fit, its confidence
k / (n + 1) for k of n agreeing (as mpnet.infer_signs computes it); a sign is called when the confidence reaches
the threshold. mpnet.infer_signs itself is not used: it works on feed-forward data and ties-free topologies
(its flip-symmetry analysis assumes a DAG), while this is a recurrent network with tied gap junctions.

All of it is repeated for several teacher seeds (a new teacher, new stimuli, new noise, new student starts): the
report gives each seed's precision and fraction called, their mean with a 95 % interval across seeds, the
tables pooled over seeds, whether the vote share is calibrated (its mean per bin against the accuracy's 95 %
interval), and the edges called wrong in most seeds. Scoring and tables: scripts/_connectome_report.py.

    python scripts/connectome_signs.py                    # the default slice, 5 seeds (~ 5 CPU minutes)
    python scripts/connectome_signs.py --quick            # a smaller slice, 3 seeds, fewer members (CI)
    python scripts/connectome_signs.py --jobs 5           # the seeds in 5 processes
    python scripts/connectome_signs.py --known-signs      # ACh and GABA given: what do the data say about glutamate?
    python scripts/connectome_signs.py --stimulate all    # drive every neuron of the slice: more signs identifiable?
    python scripts/connectome_signs.py --picture docs/connectome_signs.png
"""
import csv
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
import multiprocessing
from typing import Dict, List, Optional, Sequence, Tuple

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import mpnet  # noqa: E402
from mpnet import Network, connectome, fit  # noqa: E402
from mpnet.graph.topology import Topology  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, guarded, int_at_least, number, writable_file  # noqa: E402  (the scripts' argument types)
from _connectome_report import (CLASSES, Verdict, by_neuron_class, by_synapses, calibration_verdict,  # noqa: E402
                                failures, reliability, seeds_table, table, transmitter_class)

SENSORY = ["ASH", "AWC", "AFD", "ASE", "ASK", "AWA", "AWB"]
INTER = ["AIA", "AIB", "AIY", "AIZ", "RIA", "RIB", "RIM", "AVA", "AVB", "AVD", "AVE"]
MOTOR = ["SMD", "RMD", "RME", "SMB"]
QUICK = (("ASH", "AWC", "AFD"), ("AIA", "AIB", "AIY", "RIA"), ("SMD", "RMD"))   # --quick's slice


@dataclass
class Config:
    seed: int = 0                # the first teacher seed; seed + i for the others
    seeds: int = 5               # teachers, each with its own stimuli, noise and student starts
    noise: float = 0.05          # observation noise: sd as a fraction of each output's standard deviation
    gain: float = 0.5            # sd of the log of the teacher's random gain per class pair
    stimulate: str = "sensory"   # "sensory": the sensory neurons; "all": every neuron of the slice
    known_signs: bool = False    # ACh and GABA signs given to the students (only the others inferred)
    sequences: int = 48          # stimulus sequences
    steps: int = 40              # steps per sequence
    ensemble: int = 12           # students, trained together as one batched Network
    epochs: int = 2000
    lr: float = 0.01              # 0.03 diverges on this slice (loss 0.13 -> 0.20 over 600 epochs)
    threshold: float = 0.75      # confidence needed to call a sign
    fail_fraction: float = 0.5   # members whose loss exceeds the best by more than this share are dropped
    classes: Tuple[Tuple[str, ...], Tuple[str, ...], Tuple[str, ...]] = (tuple(SENSORY), tuple(INTER), tuple(MOTOR))


def slice_topology(cfg: Config) -> Topology:
    """The slice: the neurons of the configured classes, sensory (or all) driven, motor neurons read out."""
    full = connectome.load()
    nodes = full.nodes
    of = lambda classes: [n for n, node in nodes.items() if node.meta and node.meta["cell_class"] in classes]
    sensory, inter, motor = (of(c) for c in cfg.classes)
    keep = sensory + inter + motor
    inputs = keep if cfg.stimulate == "all" else sensory
    return connectome.subcircuit(full, keep, inputs=inputs, outputs=motor)


def teacher(topo: Topology, seed: int, gain: float = 0.5) -> Tuple[Topology, Dict[Tuple[str, str], str]]:
    """Signed weights on every chemical edge (transmitter, or a coin for the ambiguous ones), magnitudes from
    connectome.count_weights (0.5 log(1 + synapses) / sqrt(fan-in)) times a gain ``exp(gain * N(0, 1))`` drawn
    per (presynaptic class, postsynaptic class), gap conductances 0.05 log(1 + junctions); small biases."""
    gen = torch.Generator().manual_seed(seed)
    counts = connectome.count_weights(topo, seed=seed)
    cls = {n: node.meta["cell_class"] for n, node in topo.nodes.items() if node.meta}
    pairs = sorted({(cls[s], cls[d]) for (s, d), e in topo.edges.items() if (e.meta or {}).get("transmitter")})
    gains = dict(zip(pairs, torch.exp(gain * torch.randn(len(pairs), generator=gen, dtype=torch.float64)).tolist()))
    signs: Dict[Tuple[str, str], str] = {}
    weights: Dict[Tuple[str, str], float] = {}
    for key, e in topo.edges.items():
        nt = (e.meta or {}).get("transmitter")
        if not nt:
            continue
        sign = connectome.TRANSMITTER_SIGNS.get(nt) if "+" not in nt else None
        if sign is None:
            sign = "+" if float(torch.rand(1, generator=gen)) < 0.5 else "-"
        signs[key] = sign
        size = abs(counts.edges[key].weight) * gains[(cls[key[0]], cls[key[1]])]
        weights[key] = size if sign == "+" else -size
    gaps = {name: counts.ties[name].weight for name in topo.ties}
    biases = {n: 0.1 * float(torch.randn(1, generator=gen)) for n, node in topo.nodes.items() if node.role != "input"}
    return topo.with_weights(weights, biases, gaps), signs


def stimuli(topo: Topology, cfg: Config) -> torch.Tensor:
    """``[sequences, steps, inputs]``: each input pulses on and off at random (on: U(0.5, 1.5))."""
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    on = torch.rand(cfg.sequences, cfg.steps // 5, len(topo.inputs), generator=gen) < 0.3
    level = torch.rand(cfg.sequences, cfg.steps // 5, len(topo.inputs), generator=gen) + 0.5
    return (on * level).repeat_interleave(5, dim=1)[:, :cfg.steps]


def student(topo: Topology, known: Dict[Tuple[str, str], str], cfg: Config) -> Topology:
    """The wiring with weights and biases unset; chemical signs hidden except the ``known`` ones."""
    edges = []
    for key, e in topo.edges.items():
        if e.tie is not None and all(g is not None for g, _ in ([(e.tie, 1)] if isinstance(e.tie, str) else e.tie)):
            edges.append(mpnet.Edge(e.src, e.dst, tie=e.tie, meta=e.meta))   # gap only: no own weight
        elif not e.trainable:
            edges.append(e)                                                 # the stimulus edges
        else:
            edges.append(mpnet.Edge(e.src, e.dst, sign=known.get(key), tie=e.tie, meta=e.meta))
    nodes = [mpnet.Node(n.id, n.role, n.activation, meta=n.meta) for n in topo.nodes.values()]
    ties = [mpnet.Tie(t.name, sign="+") for t in topo.ties.values()]
    return Topology(nodes, edges, recurrent=True, ties=ties, warn=False)


def flippable(topo: Topology) -> List[List[str]]:
    """The groups of neurons whose signs no data can fix: tanh is odd, so negating a neuron's bias, incoming and
    outgoing weights leaves every other neuron unchanged. A gap junction ``g (h_j - h_i)`` survives the flip
    only if both of its neurons flip, so the units that can flip are the connected components of the
    gap-junction graph; a component can flip unless one of its neurons is read out or stimulated (an input's
    frozen edge cannot change sign). A chemical edge with exactly one end in such a component has an
    undeterminable sign (only its sign relative to the component's other edges is fixed)."""
    parent = {n: n for n, node in topo.nodes.items() if node.role != "input"}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n
    for name in topo.ties:
        if name.startswith("gap:"):
            a, b = name[4:].split("|")
            parent[root(a)] = root(b)
    anchored = {root(e.dst) for e in topo.edges.values() if topo.nodes[e.src].role == "input"}
    anchored |= {root(n) for n in topo.outputs}
    groups: Dict[str, List[str]] = {}
    for n in parent:
        if root(n) not in anchored:
            groups.setdefault(root(n), []).append(n)
    return sorted(groups.values(), key=lambda g: (-len(g), g))


def undeterminable(topo: Topology) -> Dict[Tuple[str, str], List[str]]:
    """``{chemical edge: the flippable group that leaves its sign undetermined}`` (see :func:`flippable`)."""
    group_of = {n: tuple(g) for g in flippable(topo) for n in g}
    out = {}
    for key, e in topo.edges.items():
        if (e.meta or {}).get("transmitter"):
            gs, gd = group_of.get(e.src), group_of.get(e.dst)
            if gs != gd:
                out[key] = list(gs or gd)
    return out


def infer(topo: Topology, X: torch.Tensor, Y: torch.Tensor, known: Dict, cfg: Config,
          signs: Dict) -> Tuple[List[Verdict], Dict[str, float]]:
    """Fit the ensemble, keep the members that fit, vote on each chemical edge's own weight."""
    base = student(topo, known, cfg)
    net = Network([base] * cfg.ensemble, seed=cfg.seed + 2)
    fit(net, X, Y, epochs=cfg.epochs, lr=cfg.lr, batch_size=None, seed=cfg.seed, progress=False)
    with torch.no_grad():
        out = net(X.transpose(0, 1))                                       # [members, steps, n, outputs]
        per = ((out - Y.transpose(0, 1)) ** 2).mean(dim=(1, 2, 3))         # [members]
    spread = float(((Y - Y.mean(dim=(0, 1))) ** 2).mean())
    best = float(per.min())
    good = [k for k in range(cfg.ensemble) if float(per[k]) <= best + cfg.fail_fraction * (spread - best)]
    trained = net.to_topology()
    verdicts = []
    n = len(good)
    blind = undeterminable(topo)
    for key in signs:
        w = torch.tensor([trained[k].edges[key].weight for k in good])
        pos, neg = int((w > 0).sum()), int((w < 0).sum())
        conf = max(pos, neg) / (n + 1)
        majority = "+" if pos > neg else "-"
        given = key in known
        sign = known[key] if given else (majority if conf >= cfg.threshold and pos != neg else "?")
        verdicts.append(Verdict(key, transmitter_class(topo.edges[key].meta["transmitter"]), signs[key], sign,
                                majority, 1.0 if given else conf, given, key not in blind,
                                int(topo.edges[key].meta["synapses"])))
    stats = {"members": cfg.ensemble, "good": n, "best_mse": best, "median_mse": float(per.median()),
             "output_variance": spread}
    return verdicts, stats


def observe(Y: torch.Tensor, noise: float, seed: int) -> Tuple[torch.Tensor, float]:
    """``Y`` plus Gaussian noise of sd ``noise`` times each output's standard deviation (over sequences and
    steps); returns the noisy responses and the noise's mean square (the MSE a perfect fit would reach)."""
    if noise == 0:
        return Y, 0.0
    gen = torch.Generator().manual_seed(seed + 3)
    eps = noise * Y.std(dim=(0, 1)) * torch.randn(Y.shape, generator=gen, dtype=Y.dtype)
    if not bool(torch.isfinite(Y + eps).all()):
        raise ValueError(f"the teacher's responses for seed {seed} are not finite; nothing to fit")
    return Y + eps, float((eps ** 2).mean())


def run_seed(cfg: Config) -> Tuple[List[Verdict], Dict[str, float]]:
    """One teacher (``cfg.seed``): its noisy responses, the ensemble fitted to them, the verdicts."""
    torch.set_num_threads(1)
    torch.manual_seed(cfg.seed)
    start, cpu = time.perf_counter(), time.process_time()
    topo = slice_topology(cfg)
    truth, signs = teacher(topo, cfg.seed, cfg.gain)
    X = stimuli(topo, cfg)                                                     # [n, steps, inputs]
    with torch.no_grad():
        Y = Network(truth, dtype=torch.float32)(X.transpose(0, 1)).transpose(0, 1)   # [n, steps, outputs]
    Y, noise_mse = observe(Y, cfg.noise, cfg.seed)
    known = {k: s for k, s in signs.items()
             if cfg.known_signs and transmitter_class(topo.edges[k].meta["transmitter"]) in ("Acetylcholine", "GABA")}
    verdicts, stats = infer(topo, X, Y, known, cfg, signs)
    stats.update(noise_mse=noise_mse, seconds=time.perf_counter() - start, cpu_seconds=time.process_time() - cpu)
    return verdicts, stats


def run(cfg: Config, picture: Optional[str] = None, jobs: int = 1) -> Dict:
    """Every seed (``jobs`` processes, each one thread); ``verdicts`` and ``stats`` are the first seed's (the
    picture's), ``runs`` is ``[(seed, verdicts, stats)]`` for all."""
    topo = slice_topology(cfg)
    cfgs = [replace(cfg, seed=cfg.seed + i) for i in range(cfg.seeds)]
    if jobs > 1 and len(cfgs) > 1:
        with ProcessPoolExecutor(min(jobs, len(cfgs)), mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(run_seed, cfgs))
    else:
        results = [run_seed(c) for c in cfgs]
    runs = [(c.seed, v, st) for c, (v, st) in zip(cfgs, results)]
    if picture:
        draw_slice(topo, runs[0][1], picture)
    return {"topology": topo, "verdicts": runs[0][1], "stats": runs[0][2], "runs": runs}


def draw_slice(topo: Topology, verdicts: Sequence[Verdict], path: str) -> None:
    from mpnet.viz.draw_connectome import draw_connectome
    called = sum(v.sign != "?" for v in verdicts if not v.given)
    # the verdict (a majority below the threshold is "?"), as the tables above count it
    draw_connectome(topo, {v.key: (v.sign, v.confidence) for v in verdicts}, path,
                    title=f"Inferred signs on a C. elegans slice ({called} of {len(verdicts)} chemical signs called)")


def report(cfg: Config, out: Dict) -> None:
    """Print the per-seed table, its mean and interval, and the tables pooled over seeds."""
    topo, runs = out["topology"], out["runs"]
    pooled = [v for _, verdicts, _ in runs for v in verdicts]
    stats = [st for _, _, st in runs]
    cell_class = {n: node.meta["cell_class"] for n, node in topo.nodes.items() if node.meta}
    transmitters = {k: e.meta["transmitter"] for k, e in topo.edges.items() if (e.meta or {}).get("transmitter")}
    print(f"slice: {topo!r} ({len(runs[0][1])} chemical edges; stimulated: {cfg.stimulate}; "
          f"{'ACh and GABA signs given' if cfg.known_signs else 'every chemical sign hidden'})")
    print(f"data per seed: {cfg.sequences} stimulus sequences x {cfg.steps} steps, observation noise {cfg.noise:.0%} "
          f"of each output's sd; teacher gain per class pair exp({cfg.gain} N(0, 1)); ensemble {cfg.ensemble}, "
          f"{cfg.epochs} epochs; members that fit: {', '.join(str(st['good']) for st in stats)} of {cfg.ensemble}; "
          f"{sum(st['cpu_seconds'] for st in stats):.0f} CPU s of one thread in all")
    print(f"\nper teacher seed (threshold {cfg.threshold}; noise MSE: what a perfect fit would leave):")
    print(seeds_table(runs))
    print(f"\nsign recovery per transmitter class, pooled over {len(runs)} seeds:")
    print(table(pooled, cfg.threshold))
    print("\nby presynaptic neuron class (inferred edges, pooled):")
    print(by_neuron_class(pooled, cell_class, transmitters))
    print("\nby synapse count (inferred edges, pooled):")
    print(by_synapses(pooled))
    print("\nreliability (inferred edges, pooled; how often the majority sign is right per confidence bin):")
    print(reliability(pooled))
    print(calibration_verdict(pooled))
    print("\nrepeated failures:")
    print(failures([verdicts for _, verdicts, _ in runs], cell_class))
    groups = flippable(topo)
    blind = undeterminable(topo)
    if not groups:
        print("\nflip symmetries: none; every neuron of the slice is stimulated, read out, or joined by gap junctions "
              "to one that is, so every sign is determinable in principle"
              + (" (compare --stimulate all for what more stimuli buy)" if cfg.stimulate != "all" else ""))
    else:
        print(f"\nwhich stimuli would help: {len(blind)} chemical signs sit on a flip symmetry of {len(groups)} "
              f"neuron groups (gap-junction components neither stimulated nor read out); stimulating or recording "
              f"one neuron of a group fixes its edges' signs. Largest gains:")
        gain = sorted(((sum(1 for g in blind.values() if g == grp), grp) for grp in groups), reverse=True)[:8]
        for count, grp in gain:
            print(f"  {count:>4} edges  {', '.join(grp[:6])}{' ...' if len(grp) > 6 else ''}")


def write_verdicts(verdicts: Sequence[Verdict], path: str) -> None:
    """One row per chemical edge, the columns scripts/pictures.py reads back."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["src", "dst", "transmitter", "true", "sign", "majority", "confidence", "given",
                         "determinable", "synapses"])
        for v in verdicts:
            writer.writerow([v.key[0], v.key[1], v.transmitter, v.true, v.sign, v.majority, repr(v.confidence),
                             v.given, v.determinable, v.synapses])


def config(args) -> Config:
    """The run's Config from parsed arguments: --quick sets a smaller slice, 3 seeds, 6 members, 600 epochs and
    24 sequences of 30 steps; an option given explicitly wins over --quick's value."""
    quick = dict(classes=QUICK, seeds=3, ensemble=6, epochs=600, sequences=24, steps=30) if args.quick else {}
    given = {k: getattr(args, k) for k in ("seeds", "ensemble", "epochs", "sequences", "steps")
             if getattr(args, k) is not None}
    return Config(**{**quick, **given, "seed": args.seed, "noise": args.noise, "stimulate": args.stimulate,
                     "known_signs": args.known_signs})


def make_parser() -> Parser:
    """The command line (main parses with it; tests read --quick's Config from it without running)."""
    parser = Parser(prog="connectome_signs.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stimulate", choices=["sensory", "all"], default="sensory")
    parser.add_argument("--known-signs", action="store_true", help="give ACh and GABA signs; infer the rest")
    parser.add_argument("--quick", action="store_true",
                        help="a smaller slice (ASH, AWC, AFD -> AIA, AIB, AIY, RIA -> SMD, RMD), 3 seeds, 6 members, "
                             "600 epochs, 24 sequences of 30 steps: the same code path in under a CPU minute")
    parser.add_argument("--seeds", type=int_at_least(1, 1000), help=f"teacher seeds (default {Config.seeds})")
    parser.add_argument("--noise", type=number(0.0, 10.0), default=Config.noise,
                        help="observation noise sd as a fraction of each output's sd (default 0.05)")
    parser.add_argument("--jobs", type=int_at_least(1, 64), default=1, help="processes for the seeds (default 1)")
    parser.add_argument("--ensemble", type=int_at_least(1, 10_000), help=f"default {Config.ensemble}")
    parser.add_argument("--epochs", type=int_at_least(1, 10_000_000), help=f"default {Config.epochs}")
    parser.add_argument("--sequences", type=int_at_least(1, 1_000_000), help=f"default {Config.sequences}")
    parser.add_argument("--steps", type=int_at_least(5, 1_000_000), help=f"default {Config.steps}")
    parser.add_argument("--seed", type=int, default=0, help="the first teacher seed (default 0)")
    parser.add_argument("--picture", type=writable_file((".png", ".svg", ".pdf")),
                        help="write the slice as an adjacency matrix by neuron type and class, each chemical synapse "
                             "coloured by its verdict (the first seed's)")
    parser.add_argument("--verdicts", type=writable_file((".csv",)),
                        help="write the first seed's verdicts as scripts/pictures.py reads them "
                             "(docs/pictures/data/connectome_signs.csv)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = make_parser().parse_args(argv)
    torch.set_num_threads(1)
    cfg = config(args)
    print(f"command: python scripts/connectome_signs.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    out = run(cfg, args.picture, args.jobs)
    if args.verdicts:
        write_verdicts(out["verdicts"], args.verdicts)
    report(cfg, out)
    return out


if __name__ == "__main__":
    sys.exit(guarded(main, prog="connectome_signs.py"))
