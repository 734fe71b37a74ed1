"""Sample quality measured by a classifier the project trains on the real data.

``ReferenceClassifier`` is a small MLP fit on the real (X, y). Two scores use it:

* :func:`conditional_accuracy`: how often samples generated for class y are classified as y.
* :func:`conditional_sample_scores`: both of them for class-conditional samples.
* :func:`classifier_frechet_distance`: the Fréchet distance between Gaussian fits of its
  penultimate-layer features on real and generated images. This is *not* the Inception FID:
  the feature extractor is this project's own classifier, so values compare only across runs
  that use the same classifier recipe and data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genrl.metrics.distances import frechet_distance_features
from genrl.validation import as_float_tensor, as_label_tensor


class ReferenceClassifier(nn.Module):
    """MLP ``(B, *shape) -> (B, n_classes)`` logits; ``features`` gives the penultimate layer."""

    def __init__(self, in_dim: int, n_classes: int, hidden: int = 256) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, n_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.body(x))


def train_reference_classifier(X: Any, y: Any, epochs: int = 60, seed: int = 0, device: str = "cpu") -> ReferenceClassifier:
    """Fit a :class:`ReferenceClassifier` on real data ``X (N, ...)``, labels ``y (N,)``.

    Light Gaussian input noise regularises it so that it judges shape, not pixel-exact detail.
    """
    X = as_float_tensor(X, "X").to(device)
    y = as_label_tensor(y, "y", X.shape[0]).to(device)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    clf = ReferenceClassifier(int(np.prod(X.shape[1:])), int(y.max()) + 1).to(device)
    opt = torch.optim.Adam(clf.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(epochs):
        for idx in torch.randperm(len(X), generator=g).split(128):
            xb = X[idx] + 0.1 * torch.randn(X[idx].shape, generator=g).to(device)
            loss = F.cross_entropy(clf(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return clf.eval()


@torch.no_grad()
def conditional_accuracy(classifier: nn.Module, samples: Tensor, labels: Tensor) -> dict[str, Any]:
    """Fraction of samples classified as the label they were generated for, overall and per class."""
    pred = classifier(samples).argmax(1).cpu()
    labels = labels.cpu()
    per_class = {int(c): float((pred[labels == c] == c).float().mean()) for c in labels.unique()}
    return {"accuracy": float((pred == labels).float().mean()), "per_class": per_class}


@torch.no_grad()
def classifier_frechet_distance(classifier: ReferenceClassifier, real: Tensor, fake: Tensor) -> float:
    """Fréchet distance in the reference classifier's feature space (see the module docstring)."""
    return frechet_distance_features(
        classifier.features(real).cpu().double().numpy(), classifier.features(fake).cpu().double().numpy()
    )


def conditional_sample_scores(
    classifier: ReferenceClassifier, real: Tensor, samples: Tensor, labels: Tensor
) -> dict[str, Any]:
    """``conditional_accuracy``, ``per_class_accuracy`` and ``classifier_frechet_distance`` (against ``real``)
    of ``samples`` generated for ``labels``."""
    acc = conditional_accuracy(classifier, samples, labels)
    return {"conditional_accuracy": acc["accuracy"], "per_class_accuracy": acc["per_class"],
            "classifier_frechet_distance": classifier_frechet_distance(classifier, real, samples)}  # fmt: skip
