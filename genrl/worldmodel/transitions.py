"""Moved: transitions and their file format are :mod:`genrl.transitions`; collection is :mod:`genrl.rollout`."""

# Kept until the trainers import genrl.transitions directly.
from genrl.rollout import Policy, collect, make_env
from genrl.transitions import FIELDS, FORMAT, Transitions

__all__ = ["FIELDS", "FORMAT", "Policy", "Transitions", "collect", "make_env"]
