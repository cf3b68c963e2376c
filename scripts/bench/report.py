"""The tables and the targets of scripts/bench.py."""
from dataclasses import dataclass
from typing import Dict, List, Optional

Times = Dict[str, float]             # thread setting -> milliseconds


@dataclass
class Row:
    graph: str
    label: str
    kind: str
    ms: Times                        # thread setting -> milliseconds
    work: int                        # edges x samples per call
    ratio: float = 1.0               # this time / mpnet's time for the same pass (default threads)
    peak_mib: Optional[float] = None

    @property
    def default_vs_best(self) -> Optional[float]:
        if "1 thread" not in self.ms:
            return None
        return self.ms["default"] / min(self.ms["default"], self.ms["1 thread"])


def format_table(rows: List[Row], markdown: bool = False, build: bool = False) -> str:
    """The rows as a text (or markdown) table; ``build`` rows have no throughput, ratio or memory."""
    head = ["graph", "method", "pass", "ms, default", "ms, 1 thread", "default / best", "CPU ms, 1 thread",
            "edge-samples/s", "vs mpnet", "peak MiB"]
    if build:
        head = ["case", "step", "size", "ms, default", "ms, 1 thread", "default / best", "CPU ms, 1 thread"]

    def cells(r: Row) -> List[str]:
        line = [r.graph, r.label, r.kind, f"{r.ms['default']:,.2f}",
                f"{r.ms['1 thread']:,.2f}" if "1 thread" in r.ms else "-",
                "-" if r.default_vs_best is None else f"{r.default_vs_best:.2f}",
                f"{r.ms['cpu, 1 thread']:,.2f}" if "cpu, 1 thread" in r.ms else "-"]
        return line if build else line + [f"{r.work / (r.ms['default'] / 1e3):.2e}", f"{r.ratio:,.2f}x",
                                           "-" if r.peak_mib is None else f"{r.peak_mib:,.1f}"]
    body = [cells(r) for r in rows]
    if markdown:
        return "\n".join("| " + " | ".join(line) + " |" for line in [head, ["---"] * len(head)] + body)
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]

    def fmt(line: List[str]) -> str:
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
    return "\n".join([fmt(head), "-" * len(fmt(head))] + [fmt(line) for line in body])



@dataclass
class Target:
    what: str
    value: float
    goal: float
    higher_is_better: bool

    def line(self) -> str:
        met = self.value >= self.goal if self.higher_is_better else self.value <= self.goal
        return f"  {'met    ' if met else 'NOT MET'}  {self.what}: {self.value:,.2f}"


def check_targets(rows: List[Row], builds: Dict[str, float], memory_ratio: float, cfg) -> List[Target]:
    by = {(r.graph, r.label.split(" (")[0], r.kind): r for r in rows}
    graphs = [r for r in rows if r.graph not in ("build",) and not r.graph.startswith("NEAT")]
    vs_dense = max((1 / r.ratio, f"{r.graph} {r.kind}") for r in graphs if r.label.startswith("masked dense"))
    mp_fwd = {r.graph: r for r in graphs if r.label.startswith("mpnet") and r.kind == "fwd"}
    mp_fb = {r.graph: r for r in graphs if r.label.startswith("mpnet") and r.kind == "fwd+bwd"}
    fb_ratio = max((mp_fb[g].ms["default"] / mp_fwd[g].ms["default"], g) for g in mp_fb)
    fb_cpu = max((mp_fb[g].ms["cpu, 1 thread"] / mp_fwd[g].ms["cpu, 1 thread"], g) for g in mp_fb)
    threads = max((r.default_vs_best, f"{r.graph}: {r.label.split(':')[0]} {r.kind}".strip()) for r in rows
                  if r.default_vs_best is not None and (r.label.startswith("mpnet") or not r.work))
    pop = [r for r in graphs if r.graph.startswith("population")]
    neat_pop = next(r for r in pop if r.label.startswith("neat") and r.graph == f"population x{cfg.populations[0]}")
    floor = by[("dag-50k", "floor: CSR @ h, all edges", "fwd")]
    floor_out = by[("dag-50k", "floor: CSR @ h, all edges, into a reused out", "fwd")]
    big, flat, big_cpu, flat_cpu = (next(v for k, v in builds.items() if key in k and cpu == k.endswith("(cpu)"))
                                    for cpu in (False, True) for key in ("DAG: from_arrays", "from_batch"))
    targets = [
        Target("mpnet fwd >= 100x neat-python, dag-6k", by[("dag-6k", "neat-python", "fwd")].ratio, 100, True),
        Target("mpnet fwd+bwd >= 30x per-neuron module, dag-6k",
               by[("dag-6k", "per-neuron module", "fwd+bwd")].ratio, 30, True),
        Target(f"mpnet fwd+bwd <= 3x mpnet fwd on every graph (worst: {fb_ratio[1]})", fb_ratio[0], 3, False),
        Target(f"  the same by CPU time at one thread (worst: {fb_cpu[1]})", fb_cpu[0], 3, False),
        Target(f"mpnet / masked dense <= 1.2 on every graph and pass (worst: {vs_dense[1]})", vs_dense[0], 1.2, False),
        Target(f"mpnet fwd / CSR floor <= 2, dag-50k (vs the reused-out floor: {1 / floor_out.ratio:.2f})",
               1 / floor.ratio, 2, False),
        Target(f"{neat_pop.graph}: mpnet >= 200x neat-python", neat_pop.ratio, 200, True),
        Target("memory peak / ((neurons+edges) x batch x 4 B) <= 2", memory_ratio, 2, False),
        Target(f"default threads <= 1.2x the better of default and 1 thread, every mpnet row (worst: {threads[1]})",
               threads[0], 1.2, False),
        Target(f"{cfg.big_dag[1]:,} edges from arrays to a ready Network <= 2 s", big, 2, False),
        Target("  the same by CPU time at one thread", big_cpu, 2, False),
        Target(f"{cfg.build_genomes:,} genomes from flat columns to a Network <= 100 ms", flat * 1e3, 100, False),
        Target("  the same by CPU time at one thread", flat_cpu * 1e3, 100, False),
        Target("NEAT generation: build / evaluation with fine-tuning <= 1",
               builds["neat build"] / builds["neat finetune"], 1, False),
        Target("NEAT generation: build / forward-only evaluation <= 1",
               builds["neat build"] / builds["neat evaluate"], 1, False)]
    for r in pop:
        if r.label.startswith("TensorNEAT") and r.kind == "fwd":
            targets.append(Target(f"{r.graph}: mpnet fwd >= 20x TensorNEAT, default threads", r.ratio, 20, True))
    return targets


