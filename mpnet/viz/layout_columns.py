"""Where each vertex of a layered drawing sits (viz stage, under :mod:`mpnet.viz.layout`; pure Python): its
column, its place in the column's order and its height.

A vertex is a neuron or an invisible waypoint of an edge that skips columns. Columns are longest-path depths
once the edges that close a cycle are turned round (``_back_edges``, ``_layers``); the order within a
column is chosen to cut crossings (barycentre sweeps and adjacent swaps, ``_order``); the heights come from
a least-squares fit that keeps every slot apart and long edges straight (``_heights``).
"""
import bisect
from typing import Dict, Hashable, List, Set, Tuple

from .layout_shapes import EdgeKey


def _back_edges(order: List[Hashable], edges: List[EdgeKey], starts: List[Hashable]) -> Set[EdgeKey]:
    """Edges that close a cycle in a depth-first search from ``starts``, then from every other node in order."""
    succ: Dict[Hashable, List[Hashable]] = {n: [] for n in order}
    for s, d in edges:
        succ[s].append(d)
    state = {n: 0 for n in order}       # 0 unseen, 1 on the stack, 2 done
    back: Set[EdgeKey] = set()
    for root in list(starts) + order:
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state[child] == 1:
                back.add((node, child))
            elif state[child] == 0:
                state[child] = 1
                stack.append((child, iter(succ[child])))
    return back


def _layers(order: List[Hashable], dag: List[EdgeKey], sources: Set[Hashable],
            sinks: Set[Hashable]) -> Dict[Hashable, int]:
    """Longest path from the sources (``Topology.depth``'s rule); sinks with nothing after them go last."""
    preds: Dict[Hashable, List[Hashable]] = {n: [] for n in order}
    succ: Dict[Hashable, List[Hashable]] = {n: [] for n in order}
    for s, d in dag:
        preds[d].append(s)
        succ[s].append(d)
    indeg = {n: len(preds[n]) for n in order}
    ready = [n for n in order if indeg[n] == 0]
    layer = {n: 0 if (n in sources or not sources) else 1 for n in ready}
    while ready:
        node = ready.pop()
        for child in succ[node]:
            layer[child] = max(layer.get(child, 0), layer[node] + 1)
            indeg[child] -= 1
            if indeg[child] == 0:
                ready.append(child)
    last = max(layer.values(), default=0)
    for n in order:
        if n in sinks and not succ[n]:
            layer[n] = max(last, 1) if len(order) > 1 else 0
    return layer


def _crossings(upper: List[int], lower: List[int], down: List[List[int]]) -> int:
    """Crossings between two neighbouring columns."""
    pos = {v: i for i, v in enumerate(lower)}
    pairs = sorted((i, pos[w]) for i, v in enumerate(upper) for w in down[v])
    seen: List[int] = []
    count = 0
    for _, p in pairs:
        count += len(seen) - bisect.bisect_right(seen, p)
        bisect.insort(seen, p)
    return count


def _order(columns: List[List[int]], up: List[List[int]], down: List[List[int]], fixed: Dict[int, int],
           sweeps: int) -> List[List[int]]:
    """Barycentre sweeps down and up the columns with adjacent swaps; the order with fewest crossings wins.
    Vertices in ``fixed`` keep their relative order (a network's inputs and outputs)."""
    def total(cols: List[List[int]]) -> int:
        return sum(_crossings(a, b, down) for a, b in zip(cols, cols[1:]))

    def keep_fixed(col: List[int]) -> List[int]:
        slots = [i for i, v in enumerate(col) if v in fixed]
        for i, v in zip(slots, sorted((col[i] for i in slots), key=lambda u: fixed[u])):
            col[i] = v
        return col

    cols = [keep_fixed(sorted(c, key=lambda v: (fixed.get(v, 0), v))) for c in columns]
    best, best_count = [list(c) for c in cols], total(cols)
    for sweep in range(sweeps):
        if best_count == 0:
            break
        downward = sweep % 2 == 0
        rng = range(1, len(cols)) if downward else range(len(cols) - 2, -1, -1)
        for k in rng:
            ref = cols[k - 1] if downward else cols[k + 1]
            nbrs = up if downward else down
            pos = {v: i for i, v in enumerate(ref)}
            here = {v: i for i, v in enumerate(cols[k])}

            def key(v: int) -> Tuple[float, int]:
                ns = nbrs[v]
                return (sum(pos[u] for u in ns) / len(ns) if ns else here[v], here[v])
            cols[k] = keep_fixed(sorted(cols[k], key=key))
        _swap_adjacent(cols, up, down, fixed)
        count = total(cols)
        if count < best_count:
            best, best_count = [list(c) for c in cols], count
    return _sift(best, up, down, fixed) if best_count and sweeps else best


def _pair_cost(a: int, b: int, up: List[List[int]], down: List[List[int]], pos_up: Dict[int, int],
               pos_dn: Dict[int, int]) -> int:
    """Crossings among ``a``'s and ``b``'s edges (to both neighbouring columns) with ``a`` placed above ``b``."""
    c = sum(1 for p in up[a] for q in up[b] if pos_up[p] > pos_up[q])
    return c + sum(1 for p in down[a] for q in down[b] if pos_dn[p] > pos_dn[q])


def _sift(cols: List[List[int]], up: List[List[int]], down: List[List[int]], fixed: Dict[int, int],
          rounds: int = 3) -> List[List[int]]:
    """Sifting: each free vertex in turn moves to the place in its column with the fewest crossings against
    both neighbouring columns (the barycentre sweeps leave about a tenth of the crossings a vertex's best
    place removes). Fixed vertices keep their relative order, as no other vertex moving can change it."""
    cols = [list(c) for c in cols]
    for _ in range(rounds):
        improved = False
        for k, col in enumerate(cols):
            pos_up = {v: i for i, v in enumerate(cols[k - 1])} if k > 0 else {}
            pos_dn = {v: i for i, v in enumerate(cols[k + 1])} if k + 1 < len(cols) else {}
            for v in list(col):
                if v in fixed:
                    continue
                i = col.index(v)
                rest = col[:i] + col[i + 1:]
                above = [_pair_cost(w, v, up, down, pos_up, pos_dn) for w in rest]   # w above v
                below = [_pair_cost(v, w, up, down, pos_up, pos_dn) for w in rest]   # v above w
                cost = sum(below)                                                   # v on top
                best_j, best_cost = 0, cost
                for j in range(1, len(rest) + 1):
                    cost += above[j - 1] - below[j - 1]
                    if cost < best_cost:
                        best_j, best_cost = j, cost
                if best_cost < sum(above[:i]) + sum(below[i:]):
                    col[:] = rest[:best_j] + [v] + rest[best_j:]
                    improved = True
        if not improved:
            break
    return cols


def _swap_adjacent(cols: List[List[int]], up: List[List[int]], down: List[List[int]], fixed: Dict[int, int]) -> None:
    """Swap neighbours in a column while that removes crossings with the columns on both sides."""
    for _ in range(4):
        improved = False
        for k, col in enumerate(cols):
            pos_up = {v: i for i, v in enumerate(cols[k - 1])} if k > 0 else {}
            pos_dn = {v: i for i, v in enumerate(cols[k + 1])} if k + 1 < len(cols) else {}
            for i in range(len(col) - 1):
                v, w = col[i], col[i + 1]
                if v in fixed and w in fixed:
                    continue

                def cost(a: int, b: int) -> int:   # crossings among a's and b's edges with a placed above b
                    c = sum(1 for p in up[a] for q in up[b] if pos_up[p] > pos_up[q])
                    return c + sum(1 for p in down[a] for q in down[b] if pos_dn[p] > pos_dn[q])
                if cost(w, v) < cost(v, w):
                    col[i], col[i + 1] = w, v
                    improved = True
        if not improved:
            return


def _isotonic(targets: List[float], weights: List[float], gaps: List[float]) -> List[float]:
    """Least squares ``sum w_i (t_i - target_i)^2`` subject to ``t_{i+1} - t_i >= gaps_i`` (pool adjacent
    violators on the shifted problem)."""
    offset = [0.0]
    for g in gaps:
        offset.append(offset[-1] + g)
    blocks: List[List[float]] = []        # [weighted sum, weight, count]
    for t, w, c in zip(targets, weights, offset):
        blocks.append([w * (t - c), w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s, w2, n = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w2
            blocks[-1][2] += n
    out: List[float] = []
    for s, w, n in blocks:
        out.extend([s / w] * int(n))   # n counts the targets pooled: a whole number
    return [z + c for z, c in zip(out, offset)]


def _heights(columns: List[List[int]], up: List[List[int]], down: List[List[int]], half: List[float],
             real: List[bool], node_gap: float, lane_gap: float) -> List[float]:
    """Vertical positions (downwards): neighbours in a column kept apart, each vertex pulled towards the mean
    of its neighbours in the next column; waypoints pull harder, so long edges run straight."""
    def gap(a: int, b: int) -> float:
        room = node_gap if real[a] and real[b] else lane_gap if not (real[a] or real[b]) else 1.3 * lane_gap
        return half[a] + half[b] + room

    ys = [0.0] * len(half)
    gaps = [[gap(a, b) for a, b in zip(col, col[1:])] for col in columns]
    for col, g in zip(columns, gaps):
        t = -sum(g) / 2
        for i, v in enumerate(col):
            ys[v] = t
            t += g[i] if i < len(g) else 0.0
    weight = [1.0 if r else 4.0 for r in real]
    for it in range(24):
        mode = ("up", "down", "both")[it % 3] if it < 18 else "both"
        ks = range(len(columns)) if mode != "down" else range(len(columns) - 1, -1, -1)
        for k in ks:
            col = columns[k]
            targets = []
            for v in col:
                ns = up[v] if mode == "up" else down[v] if mode == "down" else up[v] + down[v]
                targets.append(sum(ys[u] for u in ns) / len(ns) if ns else ys[v])
            for v, t in zip(col, _isotonic(targets, [weight[v] for v in col], gaps[k])):
                ys[v] = t
    return ys
