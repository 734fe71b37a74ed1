"""World models for model-based RL (work in progress: transition data so far)."""

from genrl.worldmodel.transitions import Transitions, collect

__all__ = ["Transitions", "collect"]
