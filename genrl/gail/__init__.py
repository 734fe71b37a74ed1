"""GAIL-style imitation: demonstrations, a discriminator reward from the GAN core, SB3 generators."""

from genrl.gail.demos import check_demos, load_demos, load_minari, record, space_signature, train_expert
from genrl.gail.reward import REWARDS, RewardNet
from genrl.gail.trainer import GAIL, LearnedRewardVecEnv, RelabelingReplayBuffer

__all__ = ["GAIL", "REWARDS", "LearnedRewardVecEnv", "RelabelingReplayBuffer", "RewardNet", "check_demos", "load_demos",
           "load_minari", "record", "space_signature", "train_expert"]  # fmt: skip
