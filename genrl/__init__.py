"""genrl: generative adversarial networks for few labels and for acting."""

__version__ = "0.1.0"

from genrl.envs import register_envs

register_envs()
