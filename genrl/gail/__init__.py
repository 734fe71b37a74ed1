"""GAIL-style imitation: demonstrations, a discriminator reward from the GAN core, SB3 generators."""

from genrl.gail.absorbing import AbsorbingFlag, AbsorbingReplayBuffer
from genrl.gail.demos import check_demos, load_demos, load_minari, record, train_expert
from genrl.gail.presets import GAIL_PRESETS, gail_preset
from genrl.gail.reward import REWARDS, RewardNet
from genrl.gail.sb3 import RelabelingReplayBuffer
from genrl.gail.trainer import GAIL, behaviour_cloning, make_gail
from genrl.gail.wrappers import RewardFn, RewardVecEnvWrapper, ScaledReward, TransitionWindow

__all__ = ["GAIL", "GAIL_PRESETS", "REWARDS", "AbsorbingFlag", "AbsorbingReplayBuffer", "RelabelingReplayBuffer", "RewardFn",
           "RewardNet", "RewardVecEnvWrapper", "ScaledReward", "TransitionWindow", "behaviour_cloning", "check_demos",
           "gail_preset", "load_demos", "load_minari", "make_gail", "record", "train_expert"]  # fmt: skip
