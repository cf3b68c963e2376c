"""Write the C. elegans wiring (mpnet/data/celegans/<name>.json) and the signal-propagation atlas
(<name>.atlas.json) as mpnet package data, from the cect package and its dependency wormneuroatlas.

The files are package data (pyproject.toml, [tool.setuptools.package-data]): `mpnet.connectome.load()` and
`mpnet.connectome.atlas()` read them from the installed package, so they live under mpnet/.

The shipped files were made with (cect 0.3.5, MIT licence, and wormneuroatlas 0.0.7.3, which cect requires,
from the package registry; both wheels carry their data, nothing is downloaded):

    pip install -e ".[connectome]"
    python scripts/make_connectome.py            # --only wiring / --only atlas for one of them

The wiring: cect's Cook2019HermReader, the hermaphrodite of Cook et al. 2019 (Nature 571:63-71, whole-animal
connectomes of both C. elegans sexes, electron microscopy): the 302 neurons (muscles and other cells dropped),
every chemical connection between two of them once, with its synapse count (autapses included), every gap
junction between two different neurons (one tied conductance per pair; junction count as metadata). Each
neuron's transmitters come from Wang et al. 2024 (eLife 13:RP95402, a neurotransmitter atlas of C. elegans),
as cect's Wang2024Reader reads its table; an edge is labelled with its presynaptic neuron's classical
transmitters, and a neuron with none (dopaminergic, orphan, ...) keeps its synapses with a label that leaves
the sign free. Sensory neurons get a stimulus input each; motor neurons are the outputs.

The atlas: see scripts/_atlas_source.py.
"""
import argparse
import json
import os
import sys
from typing import Any, Dict, List

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from mpnet import connectome  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, existing, fail, guarded  # noqa: E402  (the scripts' shared argument handling)
from _atlas_source import _require, make_atlas  # noqa: E402  (the functional atlas, Randi et al. 2023)
from mpnet.connectome.funatlas import ATLAS_SUFFIX  # noqa: E402

TYPES = {"Sensory": "sensory", "Interneuron": "interneuron", "Motorneuron": "motor", "Other": "other"}
GAP = "Generic_GJ"
CHEM = "Generic_CS"


def main() -> None:
    parser = Parser(prog="make_connectome.py", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(connectome.DATA_DIR, "cook2019_herm.json"),
                        help="where to write the wiring, its folder made if missing (default: the package's "
                             "mpnet/data/celegans/cook2019_herm.json)")
    parser.add_argument("--atlas-out", default=os.path.join(connectome.DATA_DIR, "randi2023" + ATLAS_SUFFIX),
                        help="where to write the signal-propagation atlas (default: the package's "
                             "mpnet/data/celegans/randi2023.atlas.json)")
    parser.add_argument("--only", choices=("wiring", "atlas"), help="write only the wiring or only the atlas")
    parser.add_argument("--compare", metavar="OLD.json", type=existing("file"),
                        help="after writing the wiring, print how it differs from an older connectome file "
                             "(edges added and dropped, synapse counts changed)")
    args = parser.parse_args()
    for flag, path in (("--out", args.out), ("--atlas-out", args.atlas_out)):
        if os.path.isdir(path):
            parser.error(f"argument {flag}: {path!r} is a directory; name the file to write")
    if not args.atlas_out.endswith(ATLAS_SUFFIX):
        parser.error(f"argument --atlas-out: {args.atlas_out!r} must end with {ATLAS_SUFFIX!r} (how atlases are found)")
    if args.compare and args.only == "atlas":
        parser.error("argument --compare: compares wirings; not with --only atlas")
    if args.only != "wiring":
        make_atlas(args.atlas_out)
    if args.only != "atlas":
        make_wiring(args.out)
        if args.compare:
            compare(args.compare, args.out)


def make_wiring(out: str) -> None:
    """The wiring: see the module docstring."""
    try:
        from cect.Cells import PHARYNGEAL_NEURONS, get_SIM_class, is_any_neuron
        from cect.readers.Cook2019HermReader import get_instance
    except ImportError:
        fail("this script needs cect: pip install -e '.[connectome]'")
    from importlib.metadata import version
    data = get_instance(from_cache=True)
    cells = list(data.nodes)
    neurons = [c for c in cells if is_any_neuron(c)]
    index = [cells.index(n) for n in neurons]
    chem_all, gap_all = (np.asarray(data.connections[k]) for k in (CHEM, GAP))
    chem_m, gap_m = chem_all[np.ix_(index, index)], gap_all[np.ix_(index, index)]
    _require((chem_m == np.round(chem_m)).all() and (gap_m == gap_m.T).all(),
             "Cook 2019: counts not whole or gap junctions asymmetric")
    identity = wang2024_identities(neurons)
    meta = [(n, {"cell_class": connectome.cell_class(n), "type": TYPES[get_SIM_class(n)],
                 "transmitters": identity[n], "transmitter_class": connectome.transmitter_class(identity[n]),
                 "pharyngeal": n in PHARYNGEAL_NEURONS}) for n in neurons]
    label = {n: connectome.synapse_transmitter(identity[n]) for n in neurons}
    chemical = [(neurons[i], neurons[j], int(chem_m[i, j]), label[neurons[i]]) for i, j in zip(*np.nonzero(chem_m))]
    gap = [(neurons[i], neurons[j], int(gap_m[i, j])) for i, j in zip(*np.nonzero(np.triu(gap_m, 1)))]
    sensory = [n for n, m in meta if m["type"] == "sensory"]
    motor = [n for n, m in meta if m["type"] == "motor"]
    topo = connectome.build(meta, chemical, gap, stimulate=sensory, read_out=motor)
    counts = connectome.wiring_counts(topo)
    out_of_neurons = chem_all[index, :].sum() - chem_m.sum() + chem_all[:, index].sum() - chem_m.sum()
    prov: Dict[str, Any] = {
        "name": os.path.basename(out)[:-5],
        "source": "cect (C. elegans Connectome Toolbox): Cook2019HermReader (the hermaphrodite of Cook et al. "
                  "2019: chemical synapses 'Generic_CS' and gap junctions 'Generic_GJ', whole counts) for the "
                  "wiring; Wang2024Reader's table of each neuron's transmitters (Wang et al. 2024, supplementary "
                  "file 2) for the identities",
        "cect_version": version("cect"), "cect_licence": "MIT",
        "papers": ["Cook et al. 2019, Whole-animal connectomes of both Caenorhabditis elegans sexes, Nature 571:63-71",
                   "Wang et al. 2024, A neurotransmitter atlas of C. elegans males and hermaphrodites, "
                   "eLife 13:RP95402"],
        "counts": counts,
        "kept": f"{counts['neurons']} neurons of {len(cells)} cells; every chemical connection between two neurons "
                f"of Cook et al. 2019 ({counts['chemical_edges']} edges, {counts['autapses']} of them autapses, "
                f"{counts['synapses']} synapses: each pair once, with its count), whatever its presynaptic "
                f"neuron releases; every gap junction between two different neurons ({counts['gap_pairs']} pairs, "
                f"{counts['gap_junctions']} junctions; one tied conductance per pair 'gap:a|b')",
        "left_out": f"connections to or from muscles and other cells ({int(out_of_neurons)} chemical synapses); "
                    f"{int(np.count_nonzero(np.diag(gap_m)))} gap junctions of a neuron with itself (no current "
                    f"flows: g (h_a - h_a) = 0); extrasynaptic (monoamine, peptide) signalling",
        "nodes": "meta cell_class, type (Cook 2019's sensory / interneuron / motor / other, via cect), "
                 "transmitters (what the neuron makes per Wang et al. 2024, as cect names them), "
                 "transmitter_class (the first that fits: classical, i.e. acetylcholine, glutamate or GABA; "
                 "monoamine; betaine; orphan, none known made), pharyngeal",
        "edges": "meta synapses (Cook 2019's count) and transmitter (the presynaptic neuron's classical "
                 "transmitters and betaine joined by '+'; for a neuron with none, its monoamines, or 'orphan'): "
                 "the sign rule fixes only Acetylcholine (+) and GABA (-), every other label stays free",
        "inputs": f"one stimulus input per sensory neuron ({len(sensory)}), frozen weight 1",
        "outputs": f"the {len(motor)} motor neurons",
        "remake": "python scripts/make_connectome.py --only wiring --out "
                  + os.path.relpath(os.path.abspath(out), ROOT),
    }
    write(topo.to_dict(), prov, out)
    back = connectome.load(out)
    _require(back == topo, "the written file does not read back to the same topology")
    _require(connectome.wiring_counts(back) == counts and counts["synapses"] == int(chem_m.sum()),
             "the counts of the file written differ from those of its source")
    print(f"wrote {os.path.relpath(out)}: {topo!r}, {os.path.getsize(out) / 1e6:.2f} MB (cect {prov['cect_version']})")
    print(prov["kept"])
    print("edges by transmitter label:", counts["edges_by_transmitter"])
    print("neurons by transmitter class:", counts["neurons_by_transmitter_class"])


def compare(old_path: str, new_path: str) -> None:
    """Print what changed in the chemical edges from ``old_path`` to ``new_path`` (both connectome files)."""
    def chemical(path: str) -> Dict[Any, Any]:
        topo = connectome.load(path)
        return {k: dict(e.meta or {}) for k, e in topo.edges.items() if (e.meta or {}).get("synapses") is not None}
    old, new = chemical(old_path), chemical(new_path)
    added = [k for k in new if k not in old]
    dropped = [k for k in old if k not in new]
    changed = [k for k in new if k in old and new[k]["synapses"] != old[k]["synapses"]]
    halved = [k for k in changed if old[k]["synapses"] == 2 * new[k]["synapses"]]
    pre = sorted({k[0] for k in added})
    examples = " ".join(f"{a}->{b} {old[(a, b)]['synapses']}->{new[(a, b)]['synapses']}" for a, b in halved[:3])
    print(f"compared with {old_path}: {len(old)} -> {len(new)} chemical edges; {len(added)} added "
          f"({sum(new[k]['synapses'] for k in added)} synapses, from {len(pre)} neurons: {', '.join(pre)}); "
          f"{len(dropped)} dropped; {len(changed)} with another synapse count ({len(halved)} of them half the old "
          f"count, e.g. {examples})")


def wang2024_identities(neurons: List[str]) -> Dict[str, List[str]]:
    """Each neuron's transmitters per Wang et al. 2024, read by cect's Wang2024Reader from the paper's table
    (its cache holds connections only; building the reader reads the spreadsheet; its chatter is silenced)."""
    import contextlib
    import io
    import warnings
    from cect.readers.Cook2019DataReader import HERMAPHRODITE
    from cect.readers.Wang2024Reader import Wang2024Reader
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Unknown extension", UserWarning)    # openpyxl on the spreadsheet
        reader = Wang2024Reader(HERMAPHRODITE, normalize_conn_numbers=False, include_monoamine_conns=False)
    table = reader.all_neurotransmitters
    missing = [n for n in neurons if n not in table]
    _require(not missing, f"Wang 2024 names no transmitters for {missing}")
    return {n: [t for t in table[n] if t is not None] for n in neurons}


def write(data: Dict[str, Any], prov: Dict[str, Any], path: str) -> None:
    """The topology dict with ``provenance`` first, one node / edge / tie per line (small, diffable)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    head = {k: v for k, v in data.items() if k not in ("nodes", "edges", "ties")}
    lines = ["{", f' "provenance": {json.dumps(prov, indent=None)},']
    lines += [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lists = [k for k in ("nodes", "edges", "ties") if k in data]
    for n, key in enumerate(lists):
        items = [json.dumps(x, separators=(",", ":")) for x in data[key]]
        lines.append(f' "{key}": [')
        lines += ["  " + x + ("," if i < len(items) - 1 else "") for i, x in enumerate(items)]
        lines.append(" ]" + ("," if n < len(lists) - 1 else ""))
    lines.append("}")
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(guarded(main, prog="make_connectome.py"))
