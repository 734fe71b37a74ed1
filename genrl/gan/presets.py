"""Ready-made GAN set-ups (nets + config + step budget) shared by the CLI, tests and experiments.

``plain`` is the bare game: MLP nets, the chosen cost, Adam. ``tricks`` adds what measurably helps
on the 2-D mixtures (see ``experiments/gan_toy.py``): PacGAN packing, a linear learning-rate decay
and, for costs with real targets, one-sided label smoothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from genrl.gan.losses import get_loss
from genrl.gan.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from genrl.gan.trainer import GANConfig, GANTrainer


@dataclass(frozen=True)
class ToyRecipe:
    """Sizes and budget for the 2-D mixtures."""

    latent_dim: int = 16
    hidden: tuple[int, ...] = (128, 128, 128)
    steps: int = 4000
    batch_size: int = 256
    lr: float = 1e-3
    pack: int = 4
    label_smoothing: float = 0.1


def toy_trainer(loss: str, tricks: bool, seed: int = 0, device: str = "auto", recipe: ToyRecipe = ToyRecipe()) -> GANTrainer:
    """A trainer for 2-D data; weights are seeded with ``seed``."""
    torch.manual_seed(seed)
    cfg = GANConfig(loss=loss, batch_size=recipe.batch_size, lr_g=recipe.lr, lr_d=recipe.lr)
    pack = 1
    if tricks:
        pack = recipe.pack
        smoothing = recipe.label_smoothing if get_loss(loss).smoothing else 0.0
        cfg = replace(cfg, lr_schedule="linear", label_smoothing=smoothing)
    G = MLPGenerator(recipe.latent_dim, 2, recipe.hidden, norm="none", seed=seed)
    D = MLPDiscriminator(2, recipe.hidden, pack=pack)
    return GANTrainer(G, D, cfg, device=device, seed=seed)


def digits_trainer(seed: int = 0, device: str = "auto", conditional: bool = True, base_channels: int = 32) -> GANTrainer:
    """A DCGAN for 8x8 digits, class-conditional (projection discriminator) by default.

    Feature matching plus an EMA of the generator keep samples diverse within each class: without
    them the classifier-feature Fréchet distance grows as training goes on (in-class collapse),
    see ``experiments/gan_digits_conditional.py``.
    """
    torch.manual_seed(seed)
    n_classes = 10 if conditional else 0
    G = DCGANGenerator(64, (1, 8, 8), base_channels=base_channels, n_classes=n_classes, seed=seed)
    D = DCGANDiscriminator((1, 8, 8), base_channels=base_channels, n_classes=n_classes)
    cfg = GANConfig(loss="non_saturating", batch_size=64, label_smoothing=0.1, feature_matching=1.0, ema_decay=0.99)
    return GANTrainer(G, D, cfg, device=device, seed=seed)
