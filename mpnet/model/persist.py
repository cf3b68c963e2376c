"""Whole networks to and from files (model stage): the functions behind :meth:`mpnet.Network.save`,
:meth:`~mpnet.Network.load` and pickling, under the names ``mpnet.persist`` gave them before 0.2.

The saved format and why: :mod:`mpnet.model.payload`.
"""
import os
from typing import Union

from torch.types import Device

from .network import Network, network_from_payload
from .payload import NETWORK_FORMAT, NETWORK_FORMAT_VERSION, network_payload, save_network

__all__ = ["save_network", "load_network", "network_payload", "network_from_payload", "NETWORK_FORMAT",
           "NETWORK_FORMAT_VERSION"]


def load_network(path: Union[str, "os.PathLike[str]"], *, device: Device = None) -> Network:
    """Read a network written by :func:`save_network` (onto ``device``, default the CPU).

    Raises:
        FormatError: not a saved network, or damaged; the message names the file and the field.
        FileNotFoundError: no such file.
    """
    return Network.load(path, device=device)
