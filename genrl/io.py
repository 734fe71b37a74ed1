"""Atomic, code-free checkpoints: one safetensors file holding tensors plus a JSON state.

Nested state (optimizer state dicts, RNG states, configs) is split into plain JSON and tensors by
:func:`split_tensors`; the JSON goes into the safetensors header metadata together with a SHA-256
of that JSON and every tensor's bytes, so a truncated or altered file is refused on load. Nothing is unpickled.
Writes go to a temporary file in the same folder and are moved into place with ``os.replace``,
so a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from genrl.errors import CheckpointError, InputError

_FORMAT = "genrl-checkpoint-1"


def split_tensors(obj: Any, tensors: dict[str, torch.Tensor], prefix: str) -> Any:
    """Replace every tensor in a nested dict/list by ``{"__tensor__": key}``, collecting them."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous()
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        if any(not isinstance(k, (str, int)) for k in obj):
            raise TypeError(f"cannot checkpoint dict keys at {prefix!r}")
        # JSON keys are strings; remember which were ints (optimizer state is keyed by index).
        return {"__dict__": [[k, split_tensors(v, tensors, f"{prefix}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [split_tensors(v, tensors, f"{prefix}.{i}") for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot checkpoint a {type(obj).__name__} at {prefix!r}")


def join_tensors(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`split_tensors`."""
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        return {k: join_tensors(v, tensors) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [join_tensors(v, tensors) for v in obj]
    return obj


def _digest(tensors: dict[str, torch.Tensor], state_json: str) -> str:
    h = hashlib.sha256(state_json.encode())
    for key in sorted(tensors):
        t = tensors[key]
        h.update(key.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (nested dicts/lists of tensors and JSON values) atomically to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    skeleton = split_tensors(state, tensors, "s")
    state_json = json.dumps(skeleton)
    meta = {"format": _FORMAT, "state": state_json, "sha256": _digest(tensors, state_json)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=meta)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; refuse anything damaged or foreign.

    :param kind: when given, ``state["kind"]`` must equal it.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"checkpoint {str(path)!r} is unreadable (truncated or not a checkpoint): {e}") from None
    if meta.get("format") != _FORMAT:
        raise CheckpointError(f"{str(path)!r} is not a genrl checkpoint (format {meta.get('format')!r})")
    if meta.get("sha256") != _digest(tensors, meta.get("state", "")):
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupt: its contents do not match their checksum")
    try:
        state = join_tensors(json.loads(meta["state"]), tensors)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"checkpoint {str(path)!r} has a damaged state header: {e}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {str(path)!r} holds a {type(state).__name__}, not a state dict")
    if kind is not None and state.get("kind") != kind:
        raise CheckpointError(f"checkpoint {str(path)!r} holds a {state.get('kind')!r}, expected {kind!r}")
    return state


RUN_ONLY_PARAMS = frozenset({"callback", "verbose", "device", "checkpoint_path", "checkpoint_every", "max_steps",
                             "max_seconds", "log_every", "tensorboard_dir"})  # fmt: skip
"""Estimator parameters that do not change what training computes: a resumed fit may change them."""


def fingerprint(arrays: Sequence[np.ndarray], *parts: Any, params: dict[str, Any] | None = None) -> str:
    """SHA-256 of the arrays' bytes, JSON ``parts`` and the ``params`` that shape training (all but
    :data:`RUN_ONLY_PARAMS`): a checkpoint records it, and a resumed fit must match it."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    for part in parts:
        h.update(json.dumps(part).encode())
    if params is not None:
        shaping = {k: v for k, v in params.items() if k not in RUN_ONLY_PARAMS}
        h.update(json.dumps(shaping, sort_keys=True, default=str).encode())
    return h.hexdigest()


@contextmanager
def restoring(path: str | Path) -> Iterator[None]:
    """Around code that rebuilds an object from a loaded checkpoint: contents that do not fit it
    (missing keys, wrong shapes, foreign state) become a :class:`CheckpointError` naming the file."""
    try:
        yield
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as e:
        raise CheckpointError(f"checkpoint {str(path)!r} does not fit what reads it: {type(e).__name__}: {e}") from None
