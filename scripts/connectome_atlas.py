"""Does the worm's wiring predict the signs of measured signal propagation? (Randi et al. 2023, held out)

The shipped connectome (mpnet.connectome.load()) is driven one neuron at a time, as Randi et al. 2023 did with
optogenetics, and read out where they recorded (mpnet.connectome.atlas(): the mean post-stimulus response per
stimulated -> responding pair, NaN where not measured). The model (mpnet.connectome.propagation): a recurrent
tanh network on the wiring, an input per stimulated neuron held at 1 for --steps steps from rest, a responder's
response its mean activity times a positive gain; gap junctions tied per pair (conductance >= 0); chemical
weights per synapse (--share synapse) or one strength per pair of cell classes scaled by log(1 + synapses)
(--share class); fitted by masked MSE on the measured responses of the training stimulations.

The stimulated neurons are dealt into --folds folds by cell class (left and right partners held out together,
fixed --seed); each fold's stimulations are held out, the rest fitted, and the held-out responses predicted.
Scored on the significant pairs (q < --alpha): is the predicted response's sign the measured one? Balanced
accuracy (a score >= 0 says positive) and AUROC per fold and pooled, with a bootstrap 95 % interval over
held-out stimulated neurons, beside the baselines on the same folds (mpnet.connectome.heldout.METHODS).

    python scripts/connectome_atlas.py                 # 5 folds, every method (~6 CPU minutes, one thread)
    python scripts/connectome_atlas.py --share class   # strengths tied per pair of cell classes
    python scripts/connectome_atlas.py --quick         # 2 of the 5 folds, 150 epochs (CI; same code path)
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from mpnet import connectome  # noqa: E402
from mpnet.connectome import heldout, propagation  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, comma_list, fail, guarded, int_at_least, number, one_of  # noqa: E402


def parser() -> Parser:
    ap = Parser(prog="connectome_atlas.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", type=int_at_least(2, 50), default=5, help="folds over stimulated neurons (5)")
    ap.add_argument("--run", type=int_at_least(1, 50), default=None,
                    help="fit only the first RUN folds (default all; --quick: 2)")
    ap.add_argument("--epochs", type=int_at_least(1, 100_000), default=None,
                    help="Adam steps per fit (600; --quick 150)")
    ap.add_argument("--steps", type=int_at_least(1, 1000), default=10, help="steps of each stimulation (10)")
    ap.add_argument("--lr", type=number(0, 10, open_low=True), default=0.01)
    ap.add_argument("--share", type=one_of(propagation.SHARES), default="synapse")
    ap.add_argument("--alpha", type=number(0, 1, open_low=True), default=0.05, help="q-value threshold (0.05)")
    ap.add_argument("--seed", type=int_at_least(0), default=0, help="folds, initial weights, rewiring (0)")
    ap.add_argument("--methods", type=comma_list(one_of(heldout.METHODS)), default=list(heldout.METHODS))
    ap.add_argument("--resamples", type=int_at_least(0, 100_000), default=None,
                    help="bootstrap resamples for the intervals (1000; --quick 200; 0: none)")
    ap.add_argument("--quick", action="store_true", help="2 of the folds, 150 epochs, 200 resamples")
    return ap


def fmt(x: float) -> str:
    return "    -" if x != x else f"{x:5.3f}"


def main() -> None:
    args = parser().parse_args()
    run_folds = args.run or (2 if args.quick else args.folds)
    epochs = args.epochs or (150 if args.quick else 600)
    resamples = args.resamples if args.resamples is not None else (200 if args.quick else 1000)
    if run_folds > args.folds:
        fail(f"argument --run: {run_folds} is more than --folds {args.folds}", prog="connectome_atlas.py")
    torch.set_num_threads(1)
    start = time.process_time()
    wiring, atlas = connectome.load(), connectome.atlas()
    responses = propagation.align(atlas, wiring, alpha=args.alpha)
    held = propagation.folds(responses.stimulated, args.folds, seed=args.seed)[:run_folds]
    sig = responses.significant
    print("command: python scripts/connectome_atlas.py " + " ".join(sys.argv[1:]))
    print(f"wiring: {wiring}; atlas: {atlas}")
    print(f"aligned: {len(responses.stimulated)} stimulated x {len(responses.read_out)} responding neurons, "
          f"{int(responses.measured.sum())} measured pairs, {int(sig.sum())} significant at q < {args.alpha:g} "
          f"({int((responses.response[sig] > 0).sum())} positive, {int((responses.response[sig] < 0).sum())} "
          f"negative); atlas neurons not in the wiring: {list(responses.dropped) or 'none'}")
    print(f"model: share={args.share}, {args.steps} steps of drive, {epochs} epochs of Adam at lr {args.lr:g}; "
          f"{run_folds} of {args.folds} folds (grouped by cell class, seed {args.seed}); torch threads 1",
          flush=True)
    result = heldout.run(wiring, responses, held, methods=args.methods, epochs=epochs, steps=args.steps,
                         lr=args.lr, share=args.share, seed=args.seed,
                         progress=lambda line: print("  " + line, file=sys.stderr, flush=True))
    table = result.table()
    names = [f"fold {k + 1}" for k in range(run_folds)] + ["pooled"]
    counts = {s.fold: (s.pairs, s.negative) for s in table if s.method == table[0].method}
    print("\nheld-out signs of the significant responses: balanced accuracy / AUROC (chance 0.5 / 0.5)")
    print(f"{'':22s}" + "".join(f"{n:>14s}" for n in names) + "   pooled 95% interval (BA; AUROC)")
    print(f"{'stimulated held out':22s}" + "".join(f"{len(f):>14d}" for f in held)
          + f"{sum(len(f) for f in held):>14d}")
    print(f"{'pairs (negative)':22s}" + "".join(f"{f'{p} ({n})':>14s}" for p, n in
                                               (counts[k] for k in [*range(run_folds), None])))
    for method in result.scores:
        cells = [s for s in table if s.method == method]
        line = f"{method:22s}" + "".join(f"{fmt(s.balanced_accuracy) + ' / ' + fmt(s.auroc):>14s}" for s in cells)
        if resamples:
            a, b, c, d = heldout.interval(result, method, resamples=resamples, seed=args.seed)
            line += f"   {fmt(a)}-{fmt(b)}; {fmt(c)}-{fmt(d)}"
        print(line)
    target = responses.response.clamp(-1, 1)
    floor = float(torch.nanmean(target ** 2))
    print(f"\nfit (training loss, mean over folds; the clipped targets' mean square is {floor:.2e}):")
    for method, losses in result.fit_loss.items():
        print(f"  {method:20s} {sum(losses) / len(losses):.2e}  ({result.seconds[method]:.0f} CPU s)")
    print(f"total {time.process_time() - start:.0f} CPU s (one thread)")


if __name__ == "__main__":
    sys.exit(guarded(main, prog="connectome_atlas.py"))
