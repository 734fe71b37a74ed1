"""The GAN core: losses, layers, nets, regularisers and the trainer."""

from genrl.gan.layers import MinibatchDiscrimination, VirtualBatchNorm, pack
from genrl.gan.losses import LOSSES, GANLoss, get_loss
from genrl.gan.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, build_net
from genrl.gan.trainer import GANConfig, GANTrainer

__all__ = [
    "LOSSES",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GANConfig",
    "GANLoss",
    "GANTrainer",
    "MLPDiscriminator",
    "MLPGenerator",
    "MinibatchDiscrimination",
    "VirtualBatchNorm",
    "build_net",
    "get_loss",
    "pack",
]
