"""A whole network as plain data and in a file (model stage): the saved format, checked field by field both ways.

A saved network is a dict of plain data: the topologies as their versioned JSON text, the raw weights and the
biases as tensors in their dtype, and the settings (``batched``, ``seed``, ``fused``, ``dtype``, ``training``;
a ctrnn's ``advance_time`` and ``time_step`` when set)::

    {"format": "mpnet.network", "version": 1, "topologies": "[{...}, ...]", "batched": false, "seed": 0,
     "fused": true, "dtype": "float64", "training": true, "raw_weight": tensor [E], "bias": tensor [N - inputs],
     "checksum": "sha256:..."}

The file is torch's own zip format holding that dict, read back with ``torch.load(weights_only=True)``. We chose
it over safetensors because it needs nothing beyond torch and keeps every dtype bit for bit (a float64 network
comes back bit-exact), and over pickling the module because loading it runs no code of the file's choosing
(``weights_only`` unpickles tensors and plain containers only) and the topologies come back through their
validating constructor, with every field of the dict checked. The constraints (fixed signs, Dale neurons,
frozen values) are part of the topologies, so they come back exactly too.

Pickling a Network (``torch.save(net)``, ``copy.deepcopy``, multiprocessing) goes through the same dict and
:func:`mpnet.model.network.network_from_payload`, which is registered with ``torch.serialization.add_safe_globals``:
``torch.load`` of a whole saved module works with torch's default ``weights_only=True`` once mpnet is imported.

Integrity: a file written by :func:`save_network` carries ``checksum``, the SHA-256 of every other field (the
plain ones as canonical JSON, each tensor as its dtype, shape and bytes), so a bit flipped in a weight, in the
topologies' text or in a setting is refused when the file is read, not loaded as a different network (torch's
zip reader does not check its records' CRCs). A field the format does not know is refused too, so a damaged
field name cannot hide the checksum. A file without ``checksum`` (saved before checksums came, or a pickled
network's dict: ``torch.save(net)`` and ``copy.deepcopy`` carry none) loads as before, silently: it is as
trustworthy as it always was, and a warning on every old file would teach users to ignore warnings.

Writing: ``save`` refuses a network with a non-finite weight or bias (naming the edge or the neuron), as
``load`` would refuse the file. It writes a temporary file named by its process and a random token beside the
target, flushed to disk, then renames it over the target: a crash leaves the old file or the new one, and two
processes saving to one path never write into each other's temporary file (the last rename wins, whole).

This module reads a network and is handed the class to build one with; it never imports the class, which
imports it (:meth:`~mpnet.Network.save`, :meth:`~mpnet.Network.load`).
"""
import hashlib
import json
import os
import uuid
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Type, TypeVar, Union

import torch
from torch import Tensor

from ..errors import ArgumentError, FormatError, NonFiniteError, TopologyError, located
from ..graph.topology import Topology

if TYPE_CHECKING:
    from .network import Network

__all__ = ["NETWORK_FORMAT", "NETWORK_FORMAT_VERSION", "network_payload", "payload_checksum", "save_network",
           "read_payload", "build_network"]

NETWORK_FORMAT = "mpnet.network"
NETWORK_FORMAT_VERSION = 1

#: Every field a saved network may hold (``advance_time`` / ``time_step``: a ctrnn's; ``checksum``: files only).
FIELDS = frozenset({"format", "version", "topologies", "batched", "seed", "fused", "dtype", "training", "raw_weight",
                    "bias", "advance_time", "time_step", "checksum"})

PathLike = Union[str, "os.PathLike[str]"]
N = TypeVar("N", bound="Network")


def payload_checksum(payload: Mapping[str, Any]) -> str:
    """``"sha256:<hex>"`` of every field of ``payload`` but ``checksum``: the plain fields as canonical JSON (sorted
    keys, no spaces), then each tensor, by name, as its dtype, shape and bytes (on the CPU, row-major).

    Raises:
        ValueError: a plain field JSON cannot write exactly (NaN, infinity); TypeError: one JSON cannot write.
    """
    plain = {k: v for k, v in payload.items() if k != "checksum" and not isinstance(v, Tensor)}
    digest = hashlib.sha256(json.dumps(plain, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8"))
    for key in sorted(k for k, v in payload.items() if k != "checksum" and isinstance(v, Tensor)):
        tensor = payload[key].detach().cpu().contiguous().reshape(-1)
        digest.update(f"\n{key}:{str(tensor.dtype)}:{list(payload[key].shape)}\n".encode("utf-8"))
        digest.update(tensor.view(torch.uint8).numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def network_payload(net: "Network", cpu: bool) -> Dict[str, Any]:
    """Everything ``net`` is made of, as plain data and tensors (no class of ours); tensors on the CPU if ``cpu``."""
    net._write_back_edits()
    move: Callable[[Tensor], Tensor] = ((lambda t: t.detach().cpu().clone()) if cpu
                                        else (lambda t: t.detach().clone()))
    return {"format": NETWORK_FORMAT, "version": NETWORK_FORMAT_VERSION,
            "topologies": json.dumps([t.to_dict() for t in net.topologies], allow_nan=False),
            "batched": net.batched, "seed": net.seed, "fused": net.conv.fused,
            "dtype": str(net.raw_weight.dtype).replace("torch.", ""), "training": net.training,
            "raw_weight": move(net.raw_weight), "bias": move(net.bias),
            **({"advance_time": net.advance_time, "time_step": net.time_step} if net.network_type == "ctrnn" else {})}


def save_network(net: "Network", path: PathLike) -> None:
    """Write ``net`` to ``path`` with its checksum (atomically: a temporary file of this process, then a rename).

    Raises:
        FileNotFoundError: the file's directory does not exist.
        ArgumentError: ``path`` is a directory.
        NonFiniteError: a weight or bias is NaN or infinite (the first one named); :meth:`Network.load` would
            refuse the file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot save the network to {path!r}: directory {folder!r} does not exist.")
    if os.path.isdir(path):
        raise ArgumentError(f"Cannot save the network to {path!r}: it is a directory; name a file in it.")
    payload = network_payload(net, cpu=True)
    _check_finite(net, payload["raw_weight"], payload["bias"])
    payload["checksum"] = payload_checksum(payload)
    tmp = f"{path}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"   # per process and per call: savers never share one
    try:
        with open(tmp, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _check_finite(net: "Network", raw: Tensor, bias: Tensor) -> None:
    """Raise :class:`NonFiniteError` naming the first edge (or parameter) and neuron whose number is not finite."""
    bad = ~torch.isfinite(raw)
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0])
        table = net._table   # None: raw_weight is one entry per edge, in edge_keys order
        n_own = len(raw) if table is None else len(table.sign) - len(table.groups)
        if i < n_own:
            t, src, dst = net.edge_keys[i if table is None else table.own.index(i)]
            what = f"the weight of edge {src!r} -> {dst!r}"
        else:
            t, name = table.groups[i - n_own] if table is not None else (0, "")
            what = f"the shared weight of tie {name!r}"
        what += f" of topology {t}" if net.batched else ""
        raise NonFiniteError(f"Cannot save the network: {what} is {raw[i].item()}; a saved network holds finite "
                             f"numbers only. Reset it or reload the last good copy (training that diverged stops "
                             f"with a DivergenceError).")
    bad = ~torch.isfinite(bias)
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0])
        t, node = net.rows[net.plan.num_inputs + i]
        raise NonFiniteError(f"Cannot save the network: the bias of neuron {node!r}"
                             f"{f' of topology {t}' if net.batched else ''} is {bias[i].item()}; a saved network "
                             f"holds finite numbers only. Reset it or reload the last good copy.")


def read_payload(path: PathLike) -> Any:
    """The dict a file written by :func:`save_network` holds, on the CPU, not yet checked.

    Raises:
        FormatError: the file is not one torch reads with ``weights_only=True``, or a directory.
        FileNotFoundError: no such file.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise FormatError(f"{path} is a directory, not a saved network.")
    if not os.path.exists(path):
        raise FileNotFoundError(f"No saved network at {path!r}.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:   # torch reports a damaged zip, a foreign pickle ... in many types
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FormatError(f"{path} is not a network saved by Network.save (torch.load: {first[:200]}).") from None


def build_network(cls: Type[N], payload: Any, where: str) -> N:
    """Inverse of :func:`network_payload`: check every field, build the network with ``cls``, set its numbers.

    Raises:
        FormatError: a field is missing or wrong, named with ``where``.
    """
    def field(key: str, kind: type, what: str) -> Any:
        if key not in payload:
            raise FormatError(f"{where}: the field {key!r} is missing; expected {what}.")
        value = payload[key]
        if not isinstance(value, kind):
            raise FormatError(f"{where}: the field {key!r} is a {type(value).__name__}; expected {what}.")
        return value

    if not isinstance(payload, dict) or payload.get("format") != NETWORK_FORMAT:
        got = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise FormatError(f"{where} is not a saved mpnet network (format {got!r}, expected {NETWORK_FORMAT!r}).")
    if payload.get("version") != NETWORK_FORMAT_VERSION:
        raise FormatError(f"{where}: network format version {payload.get('version')!r} is not supported; this "
                          f"mpnet reads version {NETWORK_FORMAT_VERSION}.")
    unknown = sorted(str(k) for k in payload if k not in FIELDS)
    if unknown:
        raise FormatError(f"{where}: the field {unknown[0]!r} is not one of a saved network's; the file is damaged "
                          f"or was not written by Network.save (fields: {sorted(FIELDS)}).")
    if "checksum" in payload:   # written by save_network; absent from older files and from pickles
        try:
            checksum: Optional[str] = payload_checksum(payload)
        except (TypeError, ValueError):   # a value save_network never writes
            checksum = None
        if checksum is None or not isinstance(payload["checksum"], str) or payload["checksum"] != checksum:
            raise FormatError(f"{where} fails its checksum: it was damaged or edited after Network.save wrote it, "
                              f"so its weights cannot be trusted. Restore it from a copy, or save the network "
                              f"again.")
    text = field("topologies", str, "the topologies as JSON text")
    try:
        dicts = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise FormatError(f"{where}: the field 'topologies' is not valid JSON ({err}).") from None
    if not isinstance(dicts, list) or not dicts:
        raise FormatError(f"{where}: the field 'topologies' must be a non-empty list of topologies.")
    topos = []
    for i, d in enumerate(dicts):
        try:
            topos.append(Topology.from_dict(d, warn=False))
        except TopologyError as err:
            raise located(err, f"{where}: topologies[{i}]") from None
    batched = field("batched", bool, "true or false")
    if not batched and len(topos) != 1:
        raise FormatError(f"{where}: a single network must hold one topology (got {len(topos)}).")
    seed = payload.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise FormatError(f"{where}: the field 'seed' is {seed!r}; expected an int or null.")
    fused = field("fused", bool, "true or false")
    dtype_name = field("dtype", str, "a dtype name such as 'float64'")
    dtype = getattr(torch, dtype_name, None)
    if not isinstance(dtype, torch.dtype):
        raise FormatError(f"{where}: the field 'dtype' is {dtype_name!r}, not a torch dtype.")
    raw: Tensor = field("raw_weight", Tensor, "a tensor")
    bias: Tensor = field("bias", Tensor, "a tensor")
    times: Dict[str, Optional[float]] = {}
    for key in ("advance_time", "time_step"):   # a ctrnn's clock settings, absent or None when not set
        value = payload.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise FormatError(f"{where}: the field {key!r} is {value!r}; expected a number or null.")
        times[key] = value
    try:
        net = cls(topos if batched else topos[0], seed=seed, fused=fused, dtype=dtype, device=raw.device,
                  advance_time=times["advance_time"], time_step=times["time_step"])
    except ArgumentError as err:
        raise FormatError(f"{where}: {err}") from None
    for name, tensor, param in (("raw_weight", raw, net.raw_weight), ("bias", bias, net.bias)):
        if tensor.shape != param.shape or tensor.dtype != param.dtype:
            raise FormatError(f"{where}: the field {name!r} is a {tensor.dtype} tensor of shape {list(tensor.shape)};"
                              f" the topologies need {param.dtype} of shape {list(param.shape)}.")
        bad = ~torch.isfinite(tensor)
        if bool(bad.any()):
            raise FormatError(f"{where}: the field {name!r} holds {tensor[bad][0].item()} at entry "
                              f"{int(torch.nonzero(bad)[0])}; a saved network holds finite numbers only.")
        with torch.no_grad():
            param.copy_(tensor)
    training = payload.get("training", True)   # absent from the earliest files: they were saved training
    if not isinstance(training, bool):
        raise FormatError(f"{where}: the field 'training' is {training!r:.40}; expected true or false.")
    net.train(training)
    return net
