"""depth: Kahn's waves over edge arrays, on small literal graphs."""
import torch

from mpnet.graph.depth import argsort_unique, find_cycle, reachability, waves


def arrays(edges, n, inputs):
    src, dst = (torch.tensor(c, dtype=torch.long) for c in zip(*edges))
    is_input = torch.zeros(n, dtype=torch.bool)
    is_input[list(inputs)] = True
    return src, dst, is_input


def test_depth_is_the_longest_path_and_sources_start_at_one():
    # 0 (input) -> 2 -> 3 -> 4, 0 -> 4 skips; 1 is a non-input source: depth 1, so 5 = 1 + 1
    src, dst, is_input = arrays([(0, 2), (2, 3), (3, 4), (0, 4), (1, 5)], 6, [0])
    w = waves(src, dst, is_input)
    assert w.depth.tolist() == [0, 1, 1, 2, 3, 2] and w.acyclic
    assert sorted(torch.cat(w.edges).tolist()) == list(range(5))      # every edge once, in some wave


def test_cycle_is_found_and_walked_in_edge_direction():
    src, dst, is_input = arrays([(0, 1), (1, 2), (2, 3), (3, 1), (3, 4)], 5, [0])
    w = waves(src, dst, is_input)
    assert not w.acyclic and w.left.tolist() == [False, True, True, True, True]
    assert find_cycle(src, dst, w.left) == [1, 2, 3, 1]


def test_reachability_both_ways():
    # inputs 0, 1; output 4. 2 is reached but reaches nothing; 3 is a source nobody reaches
    src, dst, is_input = arrays([(0, 2), (1, 4), (3, 4)], 5, [0, 1])
    is_output = torch.tensor([False, False, False, False, True])
    reached, alive = reachability(waves(src, dst, is_input), is_input, is_output)
    assert reached.tolist() == [True, True, True, False, True]
    assert alive.tolist() == [False, True, False, True, True]


def test_argsort_unique_sorts():
    key = torch.tensor([5, 3, 9, 1])
    assert argsort_unique(key).tolist() == [3, 1, 0, 2]
