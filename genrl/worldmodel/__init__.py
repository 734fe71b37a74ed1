"""World models for model-based RL: transition data, models behind one interface, scoring, acting.

``transitions`` (collect, save, load) -> ``models`` (GAN, Gaussian ensemble, MLP; ``oracle`` puts an
env's true kernel behind the same ``sample``) -> ``evaluate`` (against the true kernel or logged
data) and ``model_env`` (gymnasium / batched) -> ``planner`` (CEM, MPPI), ``pets`` and ``dyna``.
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
from genrl.worldmodel.oracle import TrueKernel
from genrl.worldmodel.transitions import Transitions, collect

__all__ = ["EnsembleWorldModel", "GANWorldModel", "MLPWorldModel", "Prediction", "Transitions", "TrueKernel",
           "WorldModel", "collect", "make_world_model", "world_model_for"]  # fmt: skip
