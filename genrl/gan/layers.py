"""Layers for GAN tricks: virtual batch norm, minibatch discrimination, packing."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from genrl.errors import InputError


class VirtualBatchNorm(nn.Module):
    """Virtual batch normalisation (Salimans et al. 2016).

    Each example is normalised with the statistics of a fixed reference batch *plus itself*, so an
    output never depends on the other examples of its minibatch. The network feeds the reference
    batch through together with the data: the first ``ref_size`` rows of every input are the
    reference rows. Their statistics keep their gradient, as in the paper.

    :param num_features: C, for inputs ``(B, C)`` or ``(B, C, H, W)``.
    :param ref_size: N, the number of leading reference rows in every input.
    """

    def __init__(self, num_features: int, ref_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.ref_size = ref_size
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: Tensor) -> Tensor:
        n = self.ref_size
        if x.shape[0] < n:
            raise InputError(f"VirtualBatchNorm expects the {n} reference rows first; got a batch of {x.shape[0]}")
        dims = [0] + list(range(2, x.dim()))  # average over batch and spatial dims
        ref = x[:n]
        ref_mean = ref.mean(dim=dims, keepdim=True)
        ref_sq = ref.pow(2).mean(dim=dims, keepdim=True)
        # Per-example stats: the reference set with the example itself added as one more member.
        spatial = [d for d in dims if d != 0]
        x_mean = x.mean(dim=spatial, keepdim=True) if spatial else x
        x_sq = x.pow(2).mean(dim=spatial, keepdim=True) if spatial else x.pow(2)
        mean = (n * ref_mean + x_mean) / (n + 1)
        var = (n * ref_sq + x_sq) / (n + 1) - mean.pow(2)
        shape = [1, -1] + [1] * (x.dim() - 2)
        x_hat = (x - mean) / torch.sqrt(var.clamp_min(0.0) + self.eps)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination (Salimans et al. 2016): lets D see how alike a batch's samples are.

    Maps features ``(B, F)`` to ``(B, F + n_kernels)``: for each kernel, the sum over the other
    examples of ``exp(-L1 distance)`` between their projections. A collapsed generator produces a
    batch whose examples are all close, which D can then see.
    """

    def __init__(self, in_features: int, n_kernels: int = 32, kernel_dim: int = 8) -> None:
        super().__init__()
        self.n_kernels, self.kernel_dim = n_kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, n_kernels * kernel_dim) * 0.1)

    def forward(self, h: Tensor) -> Tensor:
        m = (h @ self.T).view(-1, self.n_kernels, self.kernel_dim)  # (B, K, kd)
        l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(-1)  # (B, B, K)
        o = torch.exp(-l1).sum(1) - 1.0  # drop each example's match with itself
        return torch.cat([h, o], dim=1)


class GaussianNoise(nn.Module):
    """Adds N(0, σ²) noise in training mode only (a regulariser for discriminators)."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = sigma

    def forward(self, x: Tensor) -> Tensor:
        if not (self.training and self.sigma):
            return x
        # Drawn in float32 and cast: the CPU's normal sampler is 1.5x slower in bfloat16 (autocast).
        return x + (self.sigma * torch.randn(x.shape, device=x.device)).to(x.dtype)


def pack(x: Tensor, m: int) -> Tensor:
    """PacGAN packing: ``(B, C, ...) -> (B/m, m*C, ...)`` so D judges m samples jointly."""
    if m == 1:
        return x
    if x.shape[0] % m:
        raise InputError(f"batch size {x.shape[0]} is not divisible by pack={m}")
    return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])
