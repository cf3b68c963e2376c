"""Sign inference on real wiring: can stimulus-response data recover the signs of C. elegans synapses?

A teacher network runs on a slice of the shipped connectome (mpnet/data/celegans/cook2019_herm.json): sensory
neurons driven, interneurons hidden, head motor neurons read out, gap junctions as tied conductances. Its
chemical signs come from the presynaptic transmitter (acetylcholine +, GABA -); glutamate edges, betaine and
mixed-transmitter edges get a sign drawn at random (the data will have to tell). Magnitudes grow with the
synapse count. The teacher's responses to random stimulus sequences are the data.

Then every chemical sign is hidden and an ensemble of students (one batched mpnet Network, each member from its
own random start, same wiring, gap conductances constrained >= 0 but learned) is fitted to the responses with
mpnet.fit on sequences. An edge's inferred sign is the majority sign over the members that fit, its confidence
k / (n + 1) for k of n agreeing (as mpnet.infer_signs computes it); a sign is called when the confidence reaches
the threshold. mpnet.infer_signs itself is not used: it works on feed-forward data and ties-free topologies
(its flip-symmetry analysis assumes a DAG), while this is a recurrent network with tied gap junctions.

    python scripts/connectome_signs.py                    # the default slice, ~ minutes on 2 cores
    python scripts/connectome_signs.py --known-signs      # ACh and GABA given: what do the data say about glutamate?
    python scripts/connectome_signs.py --stimulate all    # drive every neuron of the slice: more signs identifiable?
    python scripts/connectome_signs.py --picture docs/connectome_signs.png
"""
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import mpnet  # noqa: E402
from mpnet import Network, connectome, fit  # noqa: E402
from mpnet.graph.topology import Topology  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, guarded, int_at_least, writable_file  # noqa: E402  (the scripts' argument types)

SENSORY = ["ASH", "AWC", "AFD", "ASE", "ASK", "AWA", "AWB"]
INTER = ["AIA", "AIB", "AIY", "AIZ", "RIA", "RIB", "RIM", "AVA", "AVB", "AVD", "AVE"]
MOTOR = ["SMD", "RMD", "RME", "SMB"]
CLASSES = ["Acetylcholine", "GABA", "Glutamate", "mixed / other"]


@dataclass
class Config:
    seed: int = 0
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


def transmitter_class(nt: str) -> str:
    return nt if nt in ("Acetylcholine", "GABA", "Glutamate") else "mixed / other"


def slice_topology(cfg: Config) -> Topology:
    """The slice: the neurons of the configured classes, sensory (or all) driven, motor neurons read out."""
    full = connectome.load()
    nodes = full.nodes
    of = lambda classes: [n for n, node in nodes.items() if node.meta and node.meta["cell_class"] in classes]
    sensory, inter, motor = (of(c) for c in cfg.classes)
    keep = sensory + inter + motor
    inputs = keep if cfg.stimulate == "all" else sensory
    return connectome.subcircuit(full, keep, inputs=inputs, outputs=motor)


def teacher(topo: Topology, seed: int) -> Tuple[Topology, Dict[Tuple[str, str], str]]:
    """Signed weights on every chemical edge (transmitter, or a coin for the ambiguous ones), magnitudes
    0.5 * log(1 + synapses) / sqrt(fan-in), gap conductances 0.05 * log(1 + junctions); small biases."""
    gen = torch.Generator().manual_seed(seed)
    fan_in: Dict[str, int] = {}
    for (_, d), e in topo.edges.items():
        if (e.meta or {}).get("transmitter"):
            fan_in[d] = fan_in.get(d, 0) + 1
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
        size = 0.5 * math.log1p(e.meta["synapses"]) / math.sqrt(fan_in[key[1]])
        weights[key] = size if sign == "+" else -size
    gaps = {}
    for name in topo.ties:
        a, b = name[4:].split("|")
        gaps[name] = 0.05 * math.log1p(topo.edges[(a, b)].meta["gap_junctions"])
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


@dataclass
class Verdict:
    key: Tuple[str, str]
    transmitter: str
    true: str
    sign: str          # "+", "-" or "?"
    majority: str      # the majority sign of the members that fit, called or not
    confidence: float
    given: bool        # the sign was given to the students, not inferred
    determinable: bool = True   # False: a flip symmetry leaves the sign undetermined (see flippable)
    synapses: int = 0


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


def table(verdicts: Sequence[Verdict], threshold: float) -> str:
    """Per transmitter class: edges, signs inferred, coverage (called / inferred), precision (right / called),
    and the inferred edges a flip symmetry leaves undetermined with the precision on the determinable rest."""
    lines = [f"{'class':<16}{'edges':>7}{'inferred':>10}{'called':>8}{'coverage':>10}{'right':>7}{'precision':>11}"
             f"{'undeterminable':>16}{'precision, determinable':>25}", "-" * 110]
    for cls in CLASSES + ["all"]:
        vs = [v for v in verdicts if cls == "all" or v.transmitter == cls]
        inferred = [v for v in vs if not v.given]
        called = [v for v in inferred if v.sign != "?"]
        right = [v for v in called if v.sign == v.true]
        cov = f"{len(called) / len(inferred):.0%}" if inferred else "-"
        prec = f"{len(right) / len(called):.0%}" if called else "-"
        blind = [v for v in inferred if not v.determinable]
        det_called = [v for v in called if v.determinable]
        det = (f"{sum(v.sign == v.true for v in det_called) / len(det_called):.0%} of {len(det_called)}"
               if det_called else "-")
        lines.append(f"{cls:<16}{len(vs):>7}{len(inferred):>10}{len(called):>8}{cov:>10}{len(right):>7}{prec:>11}"
                     f"{len(blind):>16}{det:>25}")
    return "\n".join(lines)


def by_neuron_class(verdicts: Sequence[Verdict], topo: Topology) -> str:
    """Per presynaptic neuron class (with its transmitters): inferred edges, called, right."""
    rows: Dict[str, List[Verdict]] = {}
    for v in verdicts:
        if not v.given:
            rows.setdefault(topo.nodes[v.key[0]].meta["cell_class"], []).append(v)
    out = [f"{'class':<7}{'transmitter':<26}{'inferred':>9}{'called':>8}{'right':>7}"]
    for cls in sorted(rows):
        vs = rows[cls]
        nts = "+".join(sorted({t for v in vs for t in topo.edges[v.key].meta["transmitter"].split("+")}))
        called = [v for v in vs if v.sign != "?"]
        out.append(f"{cls:<7}{nts:<26}{len(vs):>9}{len(called):>8}{sum(v.sign == v.true for v in called):>7}")
    return "\n".join(out)


def by_synapses(verdicts: Sequence[Verdict]) -> str:
    """Coverage and precision by synapse count (the teacher's weight grows with it)."""
    out = [f"{'synapses':<10}{'inferred':>9}{'called':>8}{'coverage':>10}{'precision':>11}"]
    for lo, hi in ((1, 1), (2, 3), (4, 9), (10, 10 ** 6)):
        vs = [v for v in verdicts if not v.given and lo <= v.synapses <= hi]
        called = [v for v in vs if v.sign != "?"]
        label = str(lo) if lo == hi else f"{lo}+" if hi > 1000 else f"{lo}-{hi}"
        cov = f"{len(called) / len(vs):.0%}" if vs else "-"
        prec = f"{sum(v.sign == v.true for v in called) / len(called):.0%}" if called else "-"
        out.append(f"{label:<10}{len(vs):>9}{len(called):>8}{cov:>10}{prec:>11}")
    return "\n".join(out)


def reliability(verdicts: Sequence[Verdict]) -> str:
    """How often the majority sign is right, per confidence bin (inferred edges only): a calibrated
    confidence has accuracy close to the bin's values."""
    bins = [(0.0, 0.5), (0.5, 0.75), (0.75, 0.9), (0.9, 1.01)]
    out = [f"{'confidence':<14}{'edges':>6}{'majority right':>16}"]
    for lo, hi in bins:
        vs = [v for v in verdicts if not v.given and lo <= v.confidence < hi]
        acc = f"{sum(v.majority == v.true for v in vs) / len(vs):.0%}" if vs else "-"
        out.append(f"{f'[{lo:.2f}, {min(hi, 1.0):.2f}' + (')' if hi < 1 else ']'):<14}{len(vs):>6}{acc:>16}")
    return "\n".join(out)


def run(cfg: Config, picture: Optional[str] = None) -> Dict:
    torch.manual_seed(cfg.seed)
    start = time.perf_counter()
    topo = slice_topology(cfg)
    truth, signs = teacher(topo, cfg.seed)
    X = stimuli(topo, cfg)                                                     # [n, steps, inputs]
    with torch.no_grad():
        Y = Network(truth, dtype=torch.float32)(X.transpose(0, 1)).transpose(0, 1)   # [n, steps, outputs]
    known = {k: s for k, s in signs.items()
             if cfg.known_signs and transmitter_class(topo.edges[k].meta["transmitter"]) in ("Acetylcholine", "GABA")}
    verdicts, stats = infer(topo, X, Y, known, cfg, signs)
    stats["seconds"] = time.perf_counter() - start
    if picture:
        draw_slice(topo, verdicts, picture)
    return {"topology": topo, "verdicts": verdicts, "stats": stats}


def draw_slice(topo: Topology, verdicts: Sequence[Verdict], path: str) -> None:
    from mpnet.viz.draw_connectome import draw_connectome
    called = sum(v.sign != "?" for v in verdicts if not v.given)
    # the verdict (a majority below the threshold is "?"), as the tables above count it
    draw_connectome(topo, {v.key: (v.sign, v.confidence) for v in verdicts}, path,
                    title=f"Inferred signs on a C. elegans slice ({called} of {len(verdicts)} chemical signs called)")


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    parser = Parser(prog="connectome_signs.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stimulate", choices=["sensory", "all"], default="sensory")
    parser.add_argument("--known-signs", action="store_true", help="give ACh and GABA signs; infer the rest")
    parser.add_argument("--ensemble", type=int_at_least(1, 10_000), default=Config.ensemble)
    parser.add_argument("--epochs", type=int_at_least(1, 10_000_000), default=Config.epochs)
    parser.add_argument("--sequences", type=int_at_least(1, 1_000_000), default=Config.sequences)
    parser.add_argument("--steps", type=int_at_least(1, 1_000_000), default=Config.steps)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--picture", type=writable_file((".png", ".svg", ".pdf")),
                        help="write the slice as an adjacency matrix by neuron type and class, each chemical synapse "
                             "coloured by its verdict")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = Config(seed=args.seed, stimulate=args.stimulate, known_signs=args.known_signs, ensemble=args.ensemble,
                 epochs=args.epochs, sequences=args.sequences, steps=args.steps)
    out = run(cfg, args.picture)
    topo, verdicts, stats = out["topology"], out["verdicts"], out["stats"]
    print(f"command: python scripts/connectome_signs.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"slice: {topo!r} ({len(verdicts)} chemical edges; stimulated: {cfg.stimulate}; "
          f"{'ACh and GABA signs given' if cfg.known_signs else 'every chemical sign hidden'})")
    print(f"data: {cfg.sequences} stimulus sequences x {cfg.steps} steps; ensemble {cfg.ensemble}, {cfg.epochs} epochs; "
          f"{stats['good']} of {stats['members']} members fit (best MSE {stats['best_mse']:.2e}, median "
          f"{stats['median_mse']:.2e}, output variance {stats['output_variance']:.2e}); {stats['seconds']:.0f} s")
    print(f"\nsign recovery per transmitter class (threshold {cfg.threshold}):")
    print(table(verdicts, cfg.threshold))
    print("\nby presynaptic neuron class (inferred edges):")
    print(by_neuron_class(verdicts, topo))
    print("\nby synapse count (inferred edges):")
    print(by_synapses(verdicts))
    print("\nreliability (inferred edges; accuracy of the majority sign per confidence bin):")
    print(reliability(verdicts))
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
    return out


if __name__ == "__main__":
    sys.exit(guarded(main, prog="connectome_signs.py"))
