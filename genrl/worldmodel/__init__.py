"""World models for model-based RL: transition data and models behind one interface.

Still to come (see the world-model issue): the benchmarks in experiments/.
"""

from genrl.worldmodel.models import (
    EnsembleWorldModel,
    GANWorldModel,
    MLPWorldModel,
    Prediction,
    WorldModel,
    make_world_model,
    world_model_for,
)
from genrl.worldmodel.transitions import Transitions, collect

__all__ = ["EnsembleWorldModel", "GANWorldModel", "MLPWorldModel", "Prediction", "Transitions", "WorldModel",
           "collect", "make_world_model", "world_model_for"]  # fmt: skip
