"""scikit-learn's own estimator checks on SSLGANClassifier and GANImputer, at the fast settings below."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from genrl.impute import GANImputer
from genrl.ssl import SSLGANClassifier

FAST = dict(hidden=(32,), generator_hidden=(16,), latent_dim=4, max_steps=100, batch_size=16, lr=1e-2, polyak_decay=0.0,
            random_state=0, device="cpu")  # fmt: skip

# The only check the -1 convention forbids; each entry says why.
EXPECTED_FAILURES = {
    "check_classifiers_classes": "it trains on the binary labels {-1, 1}; here -1 marks an unlabeled row, as in "
    "sklearn.semi_supervised, so one class is left and the fit is refused",
}


@parametrize_with_checks([SSLGANClassifier(**FAST)], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


IMPUTER_FAST = dict(hidden=(16,), max_steps=30, batch_size=16, n_imputations=2, random_state=0, device="cpu")


@parametrize_with_checks([GANImputer(**IMPUTER_FAST)])
def test_imputer_estimator_checks(estimator, check):
    check(estimator)
