"""Write a C. elegans connectome as an mpnet topology file, mpnet/data/celegans/<name>.json, from the cect package.

The file is package data (pyproject.toml, [tool.setuptools.package-data]): `mpnet.connectome.load()` reads it
from the installed package, so it lives under mpnet/ and not in the repository's data/.

The shipped file was made with (cect 0.3.5, MIT licence, from the package registry; its readers ship the
published reconstructions as cached JSON inside the wheel, nothing is downloaded):

    pip install -e ".[connectome]"
    python scripts/make_connectome.py --out mpnet/data/celegans/cook2019_herm.json

Source: cect's "OpenWorm unified" reader, which is its Wang 2024 reader for the hermaphrodite: the wiring of
Cook et al. 2019 (Nature 571:63-71, whole-animal connectomes of both C. elegans sexes, electron microscopy)
with each chemical synapse labelled by its presynaptic neuron's transmitter from Wang et al. 2024 (eLife 13:
RP95402, a neurotransmitter atlas of C. elegans males and hermaphrodites); unnormalised synapse counts;
monoaminergic (extrasynaptic) connections left out, gap junctions kept. Kept: the 302 neurons (muscles and
other cells dropped), every chemical connection between them (edge metadata: synapse count, transmitter),
every gap junction between two different neurons (one tied conductance per pair; junction count as metadata).
Sensory neurons get a stimulus input each; motor neurons are the outputs.
"""
import argparse
import collections
import json
import os
import sys
from typing import Any, Dict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from mpnet import connectome  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, fail, guarded  # noqa: E402  (the scripts' shared argument handling)
from _atlas_source import make_atlas  # noqa: E402  (the functional atlas, Randi et al. 2023)
from mpnet.connectome.funatlas import ATLAS_SUFFIX  # noqa: E402

TYPES = {"Sensory": "sensory", "Interneuron": "interneuron", "Motorneuron": "motor", "Other": "other"}
GAP = "Generic_GJ"


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
    args = parser.parse_args()
    for flag, path in (("--out", args.out), ("--atlas-out", args.atlas_out)):
        if os.path.isdir(path):
            parser.error(f"argument {flag}: {path!r} is a directory; name the file to write")
    if not args.atlas_out.endswith(ATLAS_SUFFIX):
        parser.error(f"argument --atlas-out: {args.atlas_out!r} must end with {ATLAS_SUFFIX!r} (how atlases are found)")
    if args.only != "wiring":
        make_atlas(args.atlas_out)
    if args.only != "atlas":
        make_wiring(args.out)


def make_wiring(out: str) -> None:
    """The wiring: see the module docstring."""
    try:
        import cect
        from cect.Cells import PHARYNGEAL_NEURONS, get_SIM_class, is_any_neuron
        from cect.readers.OpenWormUnifiedReader import get_instance
    except ImportError:
        fail("this script needs cect: pip install -e '.[connectome]'")
    from importlib.metadata import version
    data = get_instance(from_cache=True)
    cells = list(data.nodes)
    neurons = [c for c in cells if is_any_neuron(c)]
    index = [cells.index(n) for n in neurons]
    chemical, gap, dropped_self = [], [], collections.Counter()
    sends = collections.defaultdict(set)
    for synclass, matrix in data.connections.items():
        m = np.asarray(matrix)[np.ix_(index, index)]
        for i, j in zip(*np.nonzero(m)):
            pre, post, count = neurons[i], neurons[j], float(m[i, j])
            if synclass == GAP:
                if pre == post:
                    dropped_self[synclass] += 1
                elif i < j or m[j, i] == 0:
                    gap.append((pre, post, count))
            else:
                chemical.append((pre, post, count, synclass))
                sends[pre].add(synclass)
    meta = [(n, {"cell_class": connectome.cell_class(n), "type": TYPES[get_SIM_class(n)],
                 "transmitters": sorted(sends[n]), "pharyngeal": n in PHARYNGEAL_NEURONS}) for n in neurons]
    sensory = [n for n, m in meta if m["type"] == "sensory"]
    motor = [n for n, m in meta if m["type"] == "motor"]
    topo = connectome.build(meta, chemical, gap, stimulate=sensory, read_out=motor)
    counts = collections.Counter(nt for *_, nt in chemical)
    prov: Dict[str, Any] = {
        "name": os.path.basename(out)[:-5],
        "source": "cect (C. elegans Connectome Toolbox), reader OpenWormUnifiedReader (its Wang2024Reader, "
                  "hermaphrodite, unnormalised counts, no monoamine connections, gap junctions included)",
        "cect_version": version("cect"), "cect_licence": "MIT",
        "papers": ["Cook et al. 2019, Whole-animal connectomes of both Caenorhabditis elegans sexes, Nature 571:63-71",
                   "Wang et al. 2024, A neurotransmitter atlas of C. elegans males and hermaphrodites, eLife 13:RP95402"],
        "kept": f"{len(neurons)} neurons of {len(cells)} cells (muscles and other cells dropped); "
                f"{len(chemical)} chemical connections among them ({dict(counts)}), merged into "
                f"{sum(1 for e in topo.edges.values() if (e.meta or {}).get('transmitter'))} edges; "
                f"{len(gap)} gap-junction pairs (tied conductances 'gap:a|b'); "
                f"{dropped_self[GAP]} gap-junction entries of a neuron with itself dropped",
        "inputs": f"one stimulus input per sensory neuron ({len(sensory)}), frozen weight 1",
        "outputs": f"the {len(motor)} motor neurons",
        "remake": "python scripts/make_connectome.py --out " + os.path.relpath(os.path.abspath(out), ROOT),
    }
    write(topo.to_dict(), prov, out)
    back = connectome.load(out)
    assert back == topo, "the written file does not read back to the same topology"
    print(f"wrote {out}: {topo!r}, {os.path.getsize(out) / 1e6:.2f} MB (cect "
          f"{prov['cect_version']})")
    print(prov["kept"])


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
