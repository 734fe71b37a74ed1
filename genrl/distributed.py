"""Multi-process data-parallel training under ``torchrun`` (one process per GPU or CPU worker).

Every helper is a no-op in a single process, so training code calls them unconditionally::

    torchrun --nproc_per_node 2 -m genrl.cli gan --data ring8 --out runs/ring8_ddp

Gradients are averaged by hand (:func:`average_gradients`) rather than through
``DistributedDataParallel``: a GAN step runs several backward passes over two modules, backward
passes restricted to one player's parameters (``backward(inputs=...)``) and double backward for
R1 / gradient penalties, none of which DDP's autograd hooks support. One flat all-reduce per update
costs the same as DDP's bucketing for nets of this size.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import torch
import torch.distributed as dist
from torch import Tensor, nn

from genrl.errors import InputError

P = ParamSpec("P")
R = TypeVar("R")

# Separates the per-rank seed streams (see rank_seed); a prime, so nearby seeds never collide.
_RANK_STRIDE = 1_000_003


def init_distributed(backend: str | None = None) -> tuple[int, int]:
    """Join the process group described by torchrun's ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK``.

    :param backend: ``"nccl"`` or ``"gloo"``; ``None`` picks NCCL when CUDA is available, else Gloo.
    :return: ``(rank, world_size)``; ``(0, 1)`` without torchrun (nothing is initialised) and when
        the group already exists, its rank and size.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    if not dist.is_available():
        raise InputError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        # One GPU per process: LOCAL_RANK indexes the GPUs of this node.
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()


def init_local(rank: int, world: int, port: int, backend: str | None = None) -> tuple[int, int]:
    """Join a one-node group without torchrun, e.g. from ``torch.multiprocessing.spawn`` workers.

    Sets the environment torchrun would set (master on 127.0.0.1:``port``), then :func:`init_distributed`.
    """
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))  # fmt: skip
    return init_distributed(backend)


def free_port() -> int:
    """A TCP port on 127.0.0.1 free right now (for :func:`init_local`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cleanup() -> None:
    """Leave the process group once every rank gets here (no-op when none was joined)."""
    if dist.is_available() and dist.is_initialized():
        # Tearing down while a peer still talks to this process aborts it (Gloo): wait for all first.
        dist.barrier()
        dist.destroy_process_group()


def entry_point(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` between :func:`init_distributed` and :func:`cleanup` (both no-ops without torchrun)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        init_distributed()
        try:
            return fn(*args, **kwargs)
        finally:
            cleanup()

    return wrapper


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 in a single process)."""
    return dist.get_rank() if _active() else 0


def world_size() -> int:
    """Number of processes training together (1 in a single process)."""
    return dist.get_world_size() if _active() else 1


def is_main_process() -> bool:
    """Whether this process writes files, logs and progress bars (rank 0)."""
    return rank() == 0


def barrier() -> None:
    """Wait until every process gets here."""
    if _active():
        dist.barrier()


def rank_seed(seed: int) -> int:
    """A seed for this rank's own data and noise stream; rank 0 keeps ``seed`` (single-process behaviour)."""
    return seed + _RANK_STRIDE * rank()


def _average(tensors: list[Tensor]) -> None:
    """In place: replace each tensor by its mean over ranks, with one flat all-reduce."""
    if not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    torch._foreach_copy_(tensors, [f.view_as(t) for f, t in zip(flat.split([t.numel() for t in tensors]), tensors)])


def average_gradients(*modules: nn.Module) -> None:
    """Average the ``.grad`` of every parameter over ranks (call between backward and ``optimizer.step``).

    Parameters without a gradient are skipped; which ones have none is the same on every rank
    because every rank runs the same code on batches of the same shape.
    """
    if _active():
        _average([p.grad for m in modules for p in m.parameters() if p.grad is not None])


@torch.no_grad()
def average_buffers(*modules: nn.Module) -> None:
    """Average floating-point buffers over ranks (batch-norm running statistics see every rank's data)."""
    if _active():
        _average([b for m in modules for b in m.buffers() if b.is_floating_point()])


@torch.no_grad()
def broadcast_module(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank, so all start identical."""
    if _active():
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t.data, src=0)


def all_reduce(tensor: Tensor, op: str = "sum") -> Tensor:
    """In place over ranks: ``"sum"``, ``"mean"``, ``"min"`` or ``"max"``; returns ``tensor``."""
    if _active():
        ops = {"sum": dist.ReduceOp.SUM, "mean": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}
        dist.all_reduce(tensor, ops[op])
        if op == "mean":
            tensor /= dist.get_world_size()
    return tensor
