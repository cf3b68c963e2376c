"""Test-wide settings."""
import torch

# The tests run thousands of tiny ops; with several threads on a small, busy machine each op pays for
# thread wake-ups (measured here: test_propagate 11 s with one thread, about 60 s with two under load).
torch.set_num_threads(1)
