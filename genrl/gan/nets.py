"""Generators and discriminators: MLP nets for vectors, DCGAN nets for images.

Every net records the keyword arguments it was built with in ``spec`` so a checkpoint can rebuild
it (:func:`build_net`) without pickling code. Conditioning on labels: generators concatenate a label
embedding to z; discriminators add a projection term ``<embed(y), h>`` (``conditioning="projection"``)
or an auxiliary classifier head over ``n_classes`` (``conditioning="auxiliary"``, AC-GAN).

``conditioning="kplus1"`` makes the discriminator the K+1-class classifier of Salimans et al. (2016):
it outputs K class logits ``l`` and the "generated" class has its logit fixed at 0, so
``P(real | x) = Z / (Z + 1)`` with ``Z = Σ exp(l_k)``; its real/fake logit is therefore
``logsumexp(l)`` and every GAN cost in :mod:`genrl.gan.losses` applies unchanged. Fixing the fake
logit removes the softmax's redundant degree of freedom and leaves no head without a gradient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _sn
from torch.nn.utils.parametrizations import weight_norm as _wn

from genrl.errors import InputError
from genrl.gan.layers import GaussianNoise, MinibatchDiscrimination, VirtualBatchNorm
from genrl.registry import Registry

Norm = Literal["batch", "virtual", "none"]
Conditioning = Literal["projection", "auxiliary", "kplus1"]
NETS: Registry[type[nn.Module]] = Registry("network")


def _register(cls: type[nn.Module]) -> type[nn.Module]:
    NETS.register(cls.__name__, cls)
    return cls


def build_net(spec: dict[str, Any]) -> nn.Module:
    """Rebuild a net from its ``spec`` (``{"class": name, **kwargs}``)."""
    kwargs = dict(spec)
    return NETS.get(kwargs.pop("class"))(**kwargs)


def _rebuild(spec: dict[str, Any], state: dict[str, Tensor], training: bool) -> nn.Module:
    """A net from its spec and weights, without touching torch's global RNG (its init draws are discarded)."""
    with torch.random.fork_rng(devices=[]):
        net = build_net(spec)
    net.load_state_dict(state)
    return net.train(training)


class _Rebuildable(nn.Module):
    """Pickles (and deep-copies) as spec + weights: torch cannot pickle weight- or spectral-normed
    layers (their classes are made at run time), so genrl's nets never pickle their modules."""

    spec: dict[str, Any]

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (self.spec, self.state_dict(), self.training)


def net_spec(net: nn.Module, args: dict[str, Any]) -> dict[str, Any]:
    """``{"class": name, **constructor arguments}`` from the constructor's ``locals()``."""
    kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in args.items() if k not in ("self", "__class__")}
    return {"class": type(net).__name__, **kwargs}


def _norm(kind: Norm, features: int, ref_size: int, conv: bool) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(features) if conv else nn.BatchNorm1d(features)
    if kind == "virtual":
        return VirtualBatchNorm(features, ref_size)
    if kind == "none":
        return nn.Identity()
    raise InputError(f"norm must be 'batch', 'virtual' or 'none', got {kind!r}")


def check_labels(y: Tensor | None, n_classes: int, batch: int) -> None:
    """Refuse missing, misshapen or out-of-range labels for a conditional net."""
    if n_classes == 0:
        if y is not None:
            raise InputError("labels were given to an unconditional net (n_classes=0)")
        return
    if y is None:
        raise InputError(f"this net is conditional on {n_classes} classes; pass labels y")
    if y.shape != (batch,):
        raise InputError(f"labels y must have shape ({batch},), got {tuple(y.shape)}")


class _Generator(_Rebuildable):
    """Shared conditioning and virtual-batch-norm plumbing for generators."""

    # Buffers registered in __init__ when ref_size > 0; annotated so the type checker sees Tensors.
    ref_z: Tensor
    ref_y: Tensor

    def __init__(self, latent_dim: int, n_classes: int, norm: Norm, ref_size: int, seed: int) -> None:
        super().__init__()
        self.latent_dim, self.n_classes, self.norm = latent_dim, n_classes, norm
        self.ref_size = ref_size if norm == "virtual" else 0
        self.embed = nn.Embedding(n_classes, latent_dim) if n_classes else None
        if self.ref_size:
            # A fixed reference batch, saved with the weights, so VBN statistics never change meaning.
            g = torch.Generator().manual_seed(seed)
            self.register_buffer("ref_z", torch.randn(self.ref_size, latent_dim, generator=g))
            self.register_buffer("ref_y", torch.arange(self.ref_size) % max(n_classes, 1))

    def _input(self, z: Tensor, y: Tensor | None) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise InputError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        check_labels(y, self.n_classes, z.shape[0])
        if self.ref_size:
            z = torch.cat([self.ref_z, z])
            if y is not None:
                y = torch.cat([self.ref_y, y])
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        return z

    def _output(self, out: Tensor) -> Tensor:
        return out[self.ref_size :]


class _Discriminator(_Rebuildable):
    """Shared head: ``forward = head(features(x), y)``; see the module docstring for conditioning.

    ``features`` feeds feature matching; ``classify`` gives the auxiliary class logits.
    """

    if TYPE_CHECKING:
        # Each subclass defines its own; declared only for the type checker so runtime lookup is unchanged.
        def features(self, x: Tensor) -> Tensor: ...

    def _init_head(
        self, feat_dim: int, n_classes: int, conditioning: Conditioning, minibatch_kernels: int, sn: bool, out_dim: int = 1
    ) -> None:
        self.n_classes, self.conditioning, self.out_dim = n_classes, conditioning, out_dim
        if conditioning not in ("projection", "auxiliary", "kplus1"):
            raise InputError(f"conditioning must be 'projection', 'auxiliary' or 'kplus1', got {conditioning!r}")
        if conditioning == "kplus1" and n_classes < 1:
            raise InputError("conditioning='kplus1' needs n_classes >= 1")
        if out_dim < 1 or (out_dim > 1 and (n_classes or minibatch_kernels)):
            raise InputError(f"out_dim must be >= 1, and 1 with label conditioning or minibatch discrimination; got {out_dim}")
        wrap = _sn if sn else (lambda m: m)
        self.mbd = MinibatchDiscrimination(feat_dim, minibatch_kernels) if minibatch_kernels else None
        head_in = feat_dim + minibatch_kernels
        kplus1 = conditioning == "kplus1"
        self.linear = None if kplus1 else wrap(nn.Linear(head_in, out_dim))
        self.project = wrap(nn.Embedding(n_classes, head_in)) if n_classes and conditioning == "projection" else None
        self.aux = wrap(nn.Linear(head_in, n_classes)) if n_classes and conditioning != "projection" else None

    def head(self, h: Tensor, y: Tensor | None = None) -> Tensor:
        """Features ``(B, F)`` -> real/fake logits ``(B,)``, or ``(B, out_dim)`` from a net that judges
        ``out_dim`` parts of each input (GAIN's entry-wise discriminator)."""
        if self.linear is None:  # K+1: the fake class's logit is 0, so logit P(real) = logsumexp(l)
            return torch.logsumexp(self.classify(h).float(), dim=1)  # float32 also under bf16 autocast
        if self.mbd is not None:
            h = self.mbd(h)
        out = self.linear(h)
        out = out.squeeze(1) if self.out_dim == 1 else out
        if self.project is not None:
            check_labels(y, self.n_classes, h.shape[0])
            out = out + (self.project(y) * h).sum(1)
        return out

    def classify(self, h: Tensor) -> Tensor:
        """Features ``(B, F)`` -> auxiliary class logits ``(B, n_classes)``."""
        if self.aux is None:
            raise InputError("this discriminator has no class head (conditioning='auxiliary' or 'kplus1')")
        return self.aux(self.mbd(h) if self.mbd is not None else h)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.head(self.features(x), y)


@_register
class MLPGenerator(_Generator):
    """z ``(B, latent_dim)`` [+ labels ``(B,)``] -> samples ``(B, out_dim)``.

    ``out_scale`` multiplies the output: with the discriminator's ``in_scale = 1 / out_scale`` both
    nets work on data of a comfortable range while samples stay in the data's units.

    ``categories = K > 0`` makes part of the latent discrete: the argmax of the first K noise
    entries (uniform over K when z is standard normal) enters the net one-hot in their place, so
    the generator can send categories to separate modes with no continuous path (and no samples)
    between them; z keeps its shape and distribution.
    """

    def __init__(
        self,
        latent_dim: int,
        out_dim: int,
        hidden: tuple[int, ...] | list[int] = (256, 256, 256),
        norm: Norm = "batch",
        n_classes: int = 0,
        ref_size: int = 64,
        out_activation: Literal["none", "tanh", "sigmoid"] = "none",
        seed: int = 0,
        out_scale: float = 1.0,
        categories: int = 0,
    ) -> None:
        super().__init__(latent_dim, n_classes, norm, ref_size, seed)
        self.spec = net_spec(self, locals())
        if categories == 1 or not 0 <= categories <= latent_dim:
            raise InputError(f"categories must be 0 or in [2, latent_dim={latent_dim}], got {categories}")
        self.out_scale, self.categories = out_scale, categories
        self.out_shape = (out_dim,)
        layers: list[nn.Module] = []
        width = latent_dim * (2 if n_classes else 1)
        for h in hidden:
            layers += [nn.Linear(width, h), _norm(norm, h, ref_size, conv=False), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, out_dim))
        if out_activation != "none":
            layers.append({"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[out_activation]())
        self.body = nn.Sequential(*layers)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        h = self._input(z, y)
        if self.categories:
            k = self.categories
            h = torch.cat([nn.functional.one_hot(h[:, :k].argmax(1), k).to(h.dtype), h[:, k:]], 1)
        return self.out_scale * self._output(self.body(h))


@_register
class MLPDiscriminator(_Discriminator):
    """x ``(B, in_dim * pack)`` [+ labels] -> logits ``(B,)``; ``features`` -> ``(B, hidden[-1])``.

    ``in_scale`` multiplies inputs first (see :class:`MLPGenerator`'s ``out_scale``). ``out_dim > 1``
    gives ``(B, out_dim)`` logits, one per judged part of the input (GAIN judges each entry).
    """

    def __init__(
        self,
        in_dim: int,
        hidden: tuple[int, ...] | list[int] = (256, 256, 256),
        pack: int = 1,
        n_classes: int = 0,
        conditioning: Conditioning = "projection",
        minibatch_kernels: int = 0,
        spectral_norm: bool = False,
        dropout: float = 0.0,
        input_noise: float = 0.0,
        hidden_noise: float = 0.0,
        weight_norm: bool = False,
        in_scale: float = 1.0,
        out_dim: int = 1,
    ) -> None:
        super().__init__()
        self.spec = net_spec(self, locals())
        self.in_scale = in_scale
        if n_classes and pack > 1:
            raise InputError("packing (pack > 1) is not supported together with label conditioning")
        if spectral_norm and weight_norm:
            raise InputError("choose spectral_norm or weight_norm, not both")
        self.in_shape, self.pack = (in_dim,), pack
        wrap = _sn if spectral_norm else (_wn if weight_norm else (lambda m: m))
        layers: list[nn.Module] = [GaussianNoise(input_noise)] if input_noise else []
        width = in_dim * pack
        for i, h in enumerate(hidden):
            if i and hidden_noise:
                layers.append(GaussianNoise(hidden_noise))
            layers += [wrap(nn.Linear(width, h)), nn.LeakyReLU(0.2)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        self.body = nn.Sequential(*layers)
        self._init_head(width, n_classes, conditioning, minibatch_kernels, spectral_norm, out_dim)
        if weight_norm and self.aux is not None:
            self.aux = _wn(self.aux)
        self.head_noise = GaussianNoise(hidden_noise)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x * self.in_scale if self.in_scale != 1.0 else x)

    def classify(self, h: Tensor) -> Tensor:
        return super().classify(self.head_noise(h))

    @torch.no_grad()
    def init_from_data(self, x: Tensor) -> None:
        """Data-dependent init of weight-normalised layers (Salimans & Kingma 2016).

        Sets each layer's scale and bias so that its pre-activations on the batch ``x`` have zero
        mean and unit variance, layer by layer (noise layers off).
        """
        h = x
        for layer in self.body:
            if isinstance(layer, nn.Linear) and hasattr(layer, "parametrizations"):
                out = layer(h) - layer.bias
                m, s = out.mean(0), out.std(0) + 1e-6
                # parametrize's attributes come through nn.Module.__getattr__, typed Tensor | Module in the stubs.
                cast(Any, layer).parametrizations.weight.original0.div_(s.view(-1, 1))
                layer.bias.copy_(-m / s)
            if not isinstance(layer, (GaussianNoise, nn.Dropout)):
                h = layer(h)


def _upsamplings(h: int, w: int) -> int:
    """How many stride-2 stages: halve while both sides stay even and >= 4 (at most 4 times)."""
    n = 0
    while n < 4 and h % 2 == 0 and w % 2 == 0 and h >= 4 and w >= 4:
        h, w, n = h // 2, w // 2, n + 1
    if n == 0:
        raise InputError(f"DCGAN nets need even image sides >= 4, got {h}x{w}")
    return n


@_register
class DCGANGenerator(_Generator):
    """DCGAN generator: project z, then stride-2 transposed convolutions with batch norm; tanh out.

    z ``(B, latent_dim)`` [+ labels] -> images ``(B, C, H, W)`` in [-1, 1]. No unpooling layers.
    """

    def __init__(
        self,
        latent_dim: int,
        image_shape: tuple[int, int, int] | list[int],
        base_channels: int = 64,
        norm: Norm = "batch",
        n_classes: int = 0,
        ref_size: int = 64,
        seed: int = 0,
    ) -> None:
        super().__init__(latent_dim, n_classes, norm, ref_size, seed)
        self.spec = net_spec(self, locals())
        c, h, w = image_shape
        self.out_shape = (c, h, w)
        n = _upsamplings(h, w)
        ch = base_channels * 2 ** (n - 1)
        self.start = (ch, h // 2**n, w // 2**n)
        in_dim = latent_dim * (2 if n_classes else 1)
        self.project = nn.Sequential(
            nn.Linear(in_dim, ch * self.start[1] * self.start[2]),
            _norm(norm, ch * self.start[1] * self.start[2], ref_size, conv=False),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), _norm(norm, ch // 2, ref_size, conv=True), nn.ReLU()]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, c, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        x = self.project(self._input(z, y)).view(-1, *self.start)
        return self._output(self.body(x))


@_register
class DCGANDiscriminator(_Discriminator):
    """DCGAN discriminator: stride-2 convolutions (no pooling), batch norm after the first, LeakyReLU.

    images ``(B, C * pack, H, W)`` [+ labels] -> logits ``(B,)``.
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int] | list[int],
        base_channels: int = 64,
        pack: int = 1,
        norm: Literal["batch", "none"] = "batch",
        n_classes: int = 0,
        conditioning: Conditioning = "projection",
        minibatch_kernels: int = 0,
        spectral_norm: bool = False,
        dropout: float = 0.0,
        input_noise: float = 0.0,
    ) -> None:
        super().__init__()
        self.spec = net_spec(self, locals())
        c, h, w = image_shape
        if n_classes and pack > 1:
            raise InputError("packing (pack > 1) is not supported together with label conditioning")
        self.in_shape, self.pack = (c, h, w), pack
        wrap = _sn if spectral_norm else (lambda m: m)
        n = _upsamplings(h, w)
        layers: list[nn.Module] = [GaussianNoise(input_noise)] if input_noise else []
        ch_in, ch = c * pack, base_channels
        for i in range(n):
            layers.append(wrap(nn.Conv2d(ch_in, ch, 4, 2, 1)))
            if i > 0:
                layers.append(_norm(norm, ch, 0, conv=True))
            layers.append(nn.LeakyReLU(0.2))
            if dropout:
                layers.append(nn.Dropout(dropout))
            ch_in, ch = ch, ch * 2
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)
        feat = ch_in * (h // 2**n) * (w // 2**n)
        self._init_head(feat, n_classes, conditioning, minibatch_kernels, spectral_norm)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)
