"""Evaluation of generative models: mode coverage, sample distances, classifier-based scores."""

from genrl.metrics.distances import energy_distance, frechet_distance, frechet_distance_features, mmd_rbf
from genrl.metrics.modes import MixtureProbe, mixture_scores, mode_metrics

__all__ = [
    "MixtureProbe",
    "energy_distance",
    "frechet_distance",
    "frechet_distance_features",
    "mixture_scores",
    "mmd_rbf",
    "mode_metrics",
]
