"""The names a topology may use: activations, aggregations, roles, signs (pure Python, no torch)."""

__all__ = ["ACTIVATIONS", "NEAT_ACTIVATIONS", "AGGREGATIONS", "ROLES", "SIGNS"]

#: neat-python's 18 built-in activations, each exactly as ``neat.activations`` computes it (argument
#: clamps included): ``neat.sigmoid`` is ``1 / (1 + exp(-clamp(5z, -60, 60)))``, ``neat.tanh`` is
#: ``tanh(clamp(2.5z, -60, 60))``, ... (see :mod:`mpnet.engine.functional`). Prefixed, so that the plain names
#: below keep their usual (torch) meaning.
NEAT_ACTIVATIONS = tuple(f"neat.{name}" for name in (
    "sigmoid", "tanh", "sin", "gauss", "relu", "elu", "lelu", "selu", "softplus", "identity", "clamped", "inv",
    "log", "exp", "abs", "hat", "square", "cube"))
#: Activation names understood everywhere (their torch code lives in :mod:`mpnet.engine.functional`).
ACTIVATIONS = ("identity", "relu", "leaky_relu", "elu", "selu", "gelu", "tanh", "sigmoid", "softplus",
               "sin", "gauss", "abs", "square", "clamped") + NEAT_ACTIVATIONS
#: Aggregation names: how a neuron combines the messages ``w_e * h_src`` of its incoming edges.
AGGREGATIONS = ("sum", "mean", "max", "min", "product", "maxabs", "median")
ROLES = ("input", "hidden", "output")
SIGNS = ("+", "-", None)
