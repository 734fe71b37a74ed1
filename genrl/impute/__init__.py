"""Missing-value imputation with a GAN: :class:`GANImputer` (a scikit-learn transformer) and the
seeded missingness masks benchmarks use (:data:`MASKS`: MCAR, MAR, MNAR)."""

from genrl.impute.imputer import GANImputer
from genrl.impute.masks import MASKS, mar, mcar, mnar

__all__ = ["MASKS", "GANImputer", "mar", "mcar", "mnar"]
