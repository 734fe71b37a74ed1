"""World models for model-based RL: transition data, models behind one interface, scoring, acting.

Data is :class:`genrl.transitions.Transitions` (collected by :func:`genrl.rollout.collect`) ->
``models`` (GAN, Gaussian ensemble, MLP; ``oracle`` puts an env's true kernel behind the same
``sample``) -> ``evaluate`` (against the true kernel or logged data) and ``model_env`` (gymnasium /
batched, with closed-form ``rewards``) -> ``planner`` (CEM, MPPI), ``pets`` and ``dyna``.
"""

from genrl.rollout import collect
from genrl.transitions import Transitions
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

__all__ = ["EnsembleWorldModel", "GANWorldModel", "MLPWorldModel", "Prediction", "Transitions", "TrueKernel",
           "WorldModel", "collect", "make_world_model", "world_model_for"]  # fmt: skip
