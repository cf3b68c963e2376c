"""mpnet.viz.edge_labels: every label on its own route, clear of neurons, obstacles and the other labels."""
import itertools

from mpnet.viz.edge_labels import _overlap, place_labels
from mpnet.viz.layout import NodeBox, Route


def _routes():
    # three parallel level edges 0.3 inch apart between two columns of neurons, one of them long
    nodes = {f"{c}{i}": NodeBox(x, 0.3 * i, 0.15, 0.1, 0) for c, x in (("a", 0.0), ("b", 2.0)) for i in range(3)}
    routes = {(f"a{i}", f"b{i}"): Route(f"a{i}", f"b{i}", "forward", ((0.15, 0.3 * i), (1.85, 0.3 * i)))
              for i in range(3)}
    return nodes, routes


def test_labels_sit_on_their_route_and_apart():
    nodes, routes = _routes()
    sizes = {k: (0.8, 0.12) for k in routes}
    centres, unplaced = place_labels(routes, sizes, nodes, (-1, -1, 3, 2))
    assert unplaced == [] and set(centres) == set(routes)
    for key, (x, y) in centres.items():
        assert abs(y - routes[key].points[0][1]) < 1e-9 and 0.15 < x < 1.85      # on its own edge
    boxes = [(x - 0.4, y - 0.06, x + 0.4, y + 0.06) for x, y in centres.values()]
    assert not any(_overlap(a, b) for a, b in itertools.combinations(boxes, 2))
    for (x, y) in centres.values():                                              # clear of the neurons
        assert all(abs(x - n.x) > 0.4 + n.a for n in nodes.values() if abs(y - n.y) < 0.06 + n.b)


def test_an_obstacle_moves_a_label_and_no_room_is_reported():
    nodes, routes = _routes()
    key = ("a0", "b0")
    free, _ = place_labels({key: routes[key]}, {key: (0.5, 0.12)}, nodes, (-1, -1, 3, 2))
    moved, _ = place_labels({key: routes[key]}, {key: (0.5, 0.12)}, nodes, (-1, -1, 3, 2),
                            obstacles=[(0.9, -0.1, 1.1, 0.1)])
    assert abs(free[key][0] - 1.0) < 0.05 and abs(moved[key][0] - 1.0) > 0.3    # the middle, then beside the mark
    centres, unplaced = place_labels({key: routes[key]}, {key: (2.5, 0.12)}, nodes, (-1, -1, 3, 2))
    assert centres == {} and unplaced == [key]                                   # wider than the gap: no room
