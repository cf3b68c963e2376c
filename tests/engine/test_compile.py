"""compile: level-contiguous rows and edges, depth, batching layout."""
import pytest
import torch
from torch_geometric.data import Data

from mpnet.engine.compile import compile_topologies
from mpnet.examples import question_network
from mpnet.testing import random_topology
from mpnet.graph.topology import ACTIVATIONS, AGGREGATIONS, Topology


def check_plan(topos):
    data, plan = compile_topologies(topos)
    src, dst = data.edge_index
    depth = data.depth
    assert torch.all(depth[src] < depth[dst])                    # every edge rises
    assert torch.all(depth[1:] >= depth[:-1])                    # rows sorted by depth
    assert torch.all(dst[1:] >= dst[:-1])                        # edges sorted by target
    for k, lvl in enumerate(plan.levels, start=1):
        assert torch.all(depth[lvl.n0:lvl.n1] == k)
        assert torch.all((dst[lvl.e0:lvl.e1] >= lvl.n0) & (dst[lvl.e0:lvl.e1] < lvl.n1))
        covered = sorted((r0, r1) for _, r0, r1 in lvl.runs)
        assert covered[0][0] == lvl.n0 and covered[-1][1] == lvl.n1
        assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))
    assert plan.num_inputs == len(topos) * plan.n_in and torch.all(depth[:plan.num_inputs] == 0)
    return data, plan


def test_question_network_levels():
    data, plan = check_plan([question_network()])
    assert data.depth.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4]
    assert data.level_ptr.tolist() == [0, 2, 4, 6, 8, 9]
    assert [(l.n0, l.n1) for l in plan.levels] == [(2, 4), (4, 6), (6, 8), (8, 9)]


def test_random_batches():
    topos = [random_topology(s, n_hidden=s % 9) for s in range(40)]
    data, plan = check_plan(topos)
    assert data.num_nodes == sum(t.num_nodes for t in topos)
    assert data.edge_index.shape[1] == sum(t.num_edges for t in topos)
    assert torch.equal(torch.bincount(data.batch), torch.tensor([t.num_nodes for t in topos]))
    assert plan.out_rows.shape == (40, 2)
    assert torch.equal(data.batch[plan.out_rows], torch.arange(40).unsqueeze(1).expand(40, 2))


def test_data_file_is_the_embedded_question_network():
    from mpnet import Topology
    assert Topology.load("data/question_network.json") == question_network()


def test_to_pyg_carries_the_numbers_in_compiled_order():
    from mpnet import Topology
    from mpnet.graph.topology import ACTIVATIONS, AGGREGATIONS
    topo = random_topology(4, n_hidden=6, p_response=0.5, p_edge=0.5)
    data = topo.to_pyg()
    assert data.num_nodes == topo.num_nodes and data.edge_index.shape == (2, topo.num_edges)
    for row, node_id in enumerate(data.node_id):
        node = topo.nodes[node_id]
        assert (data.bias[row].item(), data.response[row].item()) == (node.bias, node.response)
        assert ACTIVATIONS[data.act[row]] == node.activation and AGGREGATIONS[data.agg[row]] == node.aggregation
        assert bool(data.is_input[row]) == (node.role == "input")
        assert bool(data.is_output[row]) == (node.role == "output")
    for (src, dst), w, s, t in zip(data.edge_index.t().tolist(), data.edge_weight.tolist(),
                                   data.edge_sign.tolist(), data.trainable.tolist()):
        edge = topo.edges[(data.node_id[src], data.node_id[dst])]
        assert (w, s, t) == (edge.weight, {"+": 1, "-": -1, None: 0}[edge.sign], edge.trainable)
    unset = Topology.from_edges([("x", "y")], inputs=["x"], outputs=["y"]).to_pyg()
    assert unset.edge_weight.isnan().all()


def topology_data(topo: Topology, graph: int) -> Data:
    """One topology as a PyG ``Data`` in declaration order, with compile's sort keys (the slow reference)."""
    ids = list(topo.nodes)
    index = {n: i for i, n in enumerate(ids)}
    depth = topo.depth()
    nodes = topo.nodes.values()
    input_rank = {n: i for i, n in enumerate(topo.inputs)}
    edges = list(topo.edges.values())
    edge_index = torch.tensor([[index[e.src] for e in edges], [index[e.dst] for e in edges]],
                              dtype=torch.long).view(2, -1)
    return Data(
        edge_index=edge_index, num_nodes=len(ids),
        depth=torch.tensor([depth[n] for n in ids], dtype=torch.long),
        rank=torch.tensor([input_rank.get(n, i) for i, n in enumerate(ids)], dtype=torch.long),
        act=torch.tensor([ACTIVATIONS.index(n.activation) for n in nodes], dtype=torch.long),
        agg=torch.tensor([AGGREGATIONS.index(n.aggregation) for n in nodes], dtype=torch.long),
        response=torch.tensor([float(n.response) for n in nodes], dtype=torch.float64),
        is_output=torch.tensor([n.role == "output" for n in nodes], dtype=torch.bool),
        out_rank=torch.tensor([topo.outputs.index(n.id) if n.role == "output" else -1 for n in nodes],
                              dtype=torch.long),
        graph=torch.full((len(ids),), graph, dtype=torch.long),
    )


def test_array_union_equals_pyg_batch_of_each_topology():
    from torch_geometric.data import Batch

    from mpnet.graph.arrays import ArrayTopology
    topos = [random_topology(s, n_hidden=s % 6, ids="int" if s % 2 else "str") for s in range(25)]
    arrays = ArrayTopology.from_topologies(topos)
    batch = Batch.from_data_list([topology_data(t, i) for i, t in enumerate(topos)])
    assert arrays.num_nodes == batch.num_nodes
    assert torch.equal(torch.stack([arrays.src, arrays.dst]), batch.edge_index)
    for mine, key in ((arrays.depth, "depth"), (arrays.activation, "act"), (arrays.aggregation, "agg"),
                      (arrays.response, "response"), (arrays.graph, "batch")):
        assert torch.equal(mine, batch[key]), key
    T, n_in, n_out = len(topos), arrays.n_in, arrays.n_out
    assert torch.equal(batch.rank[arrays.inputs.view(-1)], torch.arange(n_in).repeat(T))   # column order
    assert torch.equal(torch.nonzero(batch.depth == 0).view(-1), arrays.inputs.view(-1).sort().values)
    out_rank = torch.full((arrays.num_nodes,), -1)
    out_rank[arrays.outputs.view(-1)] = torch.arange(n_out).repeat(T)
    assert torch.equal(out_rank, batch.out_rank)


def test_a_recurrent_topology_compiles_to_one_level_with_every_edge():
    topo = random_topology(4, n_hidden=6, p_edge=0.4, recurrent=True)
    data, plan = compile_topologies(topo)
    assert len(plan.levels) == 1 and plan.levels[0].n0 == 3 and plan.levels[0].n1 == topo.num_nodes
    assert plan.levels[0].e1 == topo.num_edges
    pyg = topo.to_pyg()
    edges = {(pyg.node_id[s], pyg.node_id[d]) for s, d in pyg.edge_index.t().tolist()}
    assert edges == set(topo.edges) and any(s == d for s, d in edges)   # self-loops kept


def test_a_recurrent_batch_keeps_its_type_and_refuses_a_feed_forward_shard():
    from mpnet.graph.arrays import ArrayTopology
    from mpnet.errors import ArgumentError, MismatchError
    topos = [random_topology(s, n_hidden=4, p_edge=0.4, recurrent=True) for s in range(3)]
    arrays = ArrayTopology.from_topologies(topos)
    assert arrays.network_type == "recurrent" and "recurrent" in repr(arrays)
    assert torch.equal(arrays.depth, torch.tensor([0 if n.role == "input" else 1 for t in topos
                                                   for n in t.nodes.values()]))
    with pytest.raises(ArgumentError, match="from_batch, which builds feed-forward graphs"):
        arrays.columns(0, 2)
    with pytest.raises(MismatchError, match="mix network types"):
        ArrayTopology.from_topologies([topos[0], random_topology(0, n_hidden=2)])


def test_drawing_a_recurrent_topology_does_not_fail(tmp_path):
    pytest.importorskip("matplotlib")
    import mpnet
    topo = random_topology(1, n_hidden=5, p_edge=0.4, recurrent=True)
    mpnet.draw(topo, tmp_path / "loops.png")
    mpnet.draw(mpnet.Network(topo), tmp_path / "net.png")
    assert (tmp_path / "loops.png").stat().st_size > 0
