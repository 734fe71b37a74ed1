"""Missing-value imputation with a GAN: :class:`GANImputer` (a scikit-learn transformer whose draws
are multiple imputations), Rubin's rules to pool analyses of them (:func:`pool`, :func:`rubin`),
scores of draws against the truth (:func:`crps`, :func:`interval_coverage`), the seeded missingness
masks benchmarks use (:data:`MASKS`: MCAR, MAR, MNAR) and synthetic tables with known
conditionals (:data:`SYNTHETIC`)."""

from genrl.impute.imputer import GANImputer
from genrl.impute.masks import MASKS, mar, mcar, mnar
from genrl.impute.pooling import Pooled, fit_each, ols, pool, rubin
from genrl.impute.scoring import crps, interval_coverage
from genrl.impute.synthetic import SYNTHETIC

__all__ = ["MASKS", "SYNTHETIC", "GANImputer", "Pooled", "crps", "fit_each", "interval_coverage", "mar", "mcar",
           "mnar", "ols", "pool", "rubin"]  # fmt: skip
