"""GAIL-style imitation (work in progress: demonstrations so far)."""

from genrl.gail.demos import check_demos, load_demos, record, space_signature, train_expert

__all__ = ["check_demos", "load_demos", "record", "space_signature", "train_expert"]
