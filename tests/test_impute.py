"""GANImputer: imputing new rows, categorical columns, bad input, scikit-learn composition, quality."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from genrl.errors import InputError
from genrl.impute import MASKS, SYNTHETIC, GANImputer, crps, fit_each, interval_coverage, ols, pool, rubin
from genrl.impute.synthetic import LINEAR_COEFFICIENTS

FAST = dict(hidden=(64, 64), max_steps=600, batch_size=64, n_imputations=4, random_state=0, device="cpu")


def correlated(n: int = 600, seed: int = 0) -> np.ndarray:
    """Six columns driven by two latent factors (strong correlations, little noise)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    W = rng.standard_normal((2, 6))
    return z @ W + 0.05 * rng.standard_normal((n, 6)) + np.arange(6) * 10


def with_missing(X: np.ndarray, rate: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    mask = MASKS.get("mcar")(X, rate, seed)
    Xm = X.copy()
    Xm[mask] = np.nan
    return Xm, mask


def test_a_short_fit_beats_mean_imputation_on_correlated_data():
    X = correlated()
    Xm, mask = with_missing(X)
    gan = GANImputer(**FAST).fit_transform(Xm)
    mean = SimpleImputer().fit_transform(Xm)
    err = lambda Xi: np.sqrt(((Xi - X)[mask] ** 2).mean())  # noqa: E731
    assert err(gan) < 0.5 * err(mean), (err(gan), err(mean))


def test_new_rows_are_imputed_and_known_entries_kept():
    X = correlated(800)
    Xm, mask = with_missing(X)
    imp = GANImputer(**FAST).fit(Xm[:600])
    out = imp.transform(Xm[600:])
    assert out.shape == (200, 6) and out.dtype == np.float64 and np.isfinite(out).all()
    np.testing.assert_array_equal(out[~mask[600:]], X[600:][~mask[600:]])
    # Each row is imputed the same alone, in another order, or in another batch.
    np.testing.assert_allclose(imp.transform(Xm[600:][::-1]), out[::-1], rtol=1e-6)
    np.testing.assert_allclose(imp.transform(Xm[610:611]), out[10:11], rtol=1e-6)  # up to matmul rounding
    # Unseen rows are imputed as well as the rows it was fitted on (no memorising).
    err = lambda Xi, Xt, m: np.sqrt(((Xi - Xt)[m] ** 2).mean())  # noqa: E731
    assert err(out, X[600:], mask[600:]) < 1.5 * err(imp.transform(Xm[:600]), X[:600], mask[:600])


def test_draws_vary_only_where_entries_were_missing():
    X = correlated()
    Xm, mask = with_missing(X)
    imp = GANImputer(**FAST).fit(Xm)
    draws = imp.transform_draws(Xm[:50])
    assert draws.shape == (4, 50, 6)
    spread = draws.std(0)
    assert (spread[~mask[:50]] == 0).all() and (spread[mask[:50]] > 0).all()
    np.testing.assert_allclose(draws.mean(0), imp.transform(Xm[:50]), rtol=1e-6)


def test_categorical_columns_round_trip_and_are_predicted():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(600)
    df = pd.DataFrame({"x": x, "y": 2 * x + 0.05 * rng.standard_normal(600),
                       "size": pd.Categorical(np.where(x > 0.5, "big", np.where(x < -0.5, "small", "mid")))})  # fmt: skip
    truth = df["size"].copy()
    missing = rng.random(600) < 0.25
    df.loc[missing, "size"] = np.nan
    df.loc[rng.random(600) < 0.1, "y"] = np.nan
    imp = GANImputer(**FAST).fit(df)
    out = imp.transform(df)
    assert out.dtype == object and set(out[:, 2]) <= {"big", "mid", "small"}
    assert (out[~missing, 2] == truth[~missing].to_numpy()).all()
    accuracy = (out[missing, 2] == truth[missing].to_numpy()).mean()
    majority = truth[missing].value_counts(normalize=True).max()
    assert accuracy > majority + 0.2, (accuracy, majority)
    assert list(imp.get_feature_names_out()) == ["x", "y", "size"]


def test_categorical_columns_by_index_in_an_object_array():
    X = np.array([[1.0, "a"], [2.0, "b"], [np.nan, "a"], [4.0, None], [5.0, "b"]] * 20, dtype=object)
    out = GANImputer(**{**FAST, "max_steps": 20}, categorical_features=[1]).fit_transform(X)
    assert set(out[:, 1]) <= {"a", "b"} and all(isinstance(v, float) for v in out[:, 0])


@pytest.mark.parametrize(
    "X, message",
    [
        (np.c_[np.ones(10), np.full(10, np.nan)], "column 1 has no observed entries"),
        (pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, None]}), "column 'b' has no observed entries"),
        (np.c_[np.ones(10), np.r_[np.inf, np.ones(9)]], "column 1 holds an infinite value"),
        (np.array([[1.0, "x"], [2.0, 3.0]], dtype=object), "column 1 is numeric but row 0 holds 'x'"),
    ],
)
def test_bad_tables_are_refused_naming_the_column(X, message):
    with pytest.raises(InputError, match=message):
        GANImputer(**FAST).fit(X)


def test_transform_refuses_other_columns_and_unseen_categories():
    imp = GANImputer(**{**FAST, "max_steps": 10}).fit(correlated())
    with pytest.raises(InputError, match="X has 5 features, but GANImputer is expecting 6 features"):
        imp.transform(correlated()[:, :5])
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": pd.Categorical(["a", "b", "a"])})
    imp = GANImputer(**{**FAST, "max_steps": 10}).fit(df)
    with pytest.raises(InputError, match="column 'c' holds category 'z'"):
        imp.transform(pd.DataFrame({"x": [1.0], "c": pd.Categorical(["z"])}))
    with pytest.raises(InputError, match="categorical_features names column 'nope'"):
        GANImputer(categorical_features=["nope"]).fit(df)


def test_composes_with_pipelines_column_transformers_and_search():
    rng = np.random.default_rng(0)
    X = correlated(300)
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    Xm, _ = with_missing(X, 0.2)
    pipe = make_pipeline(GANImputer(**{**FAST, "max_steps": 200}), LogisticRegression(max_iter=1000))
    assert cross_val_score(pipe, Xm, y, cv=3).mean() > 0.8
    search = GridSearchCV(pipe, {"ganimputer__hint_rate": [0.5, 0.9]}, cv=2).fit(Xm, y)
    assert search.best_params_["ganimputer__hint_rate"] in (0.5, 0.9)
    df = pd.DataFrame(Xm, columns=list("abcdef")).assign(g=rng.choice(["u", "v"], 300))
    ct = ColumnTransformer([("imp", GANImputer(**{**FAST, "max_steps": 50}), list("abc")), ("keep", "passthrough", ["g"])])
    out = ct.set_output(transform="pandas").fit_transform(df)
    assert list(out.columns) == ["imp__a", "imp__b", "imp__c", "keep__g"] and not out.isna().any().any()


def test_pickles_to_identical_imputations_and_leaves_global_rng_alone():
    Xm, _ = with_missing(correlated(200))
    before = torch.random.get_rng_state()
    imp = GANImputer(**{**FAST, "max_steps": 50}).fit(Xm)
    assert torch.equal(before, torch.random.get_rng_state())
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(imp)).transform(Xm), imp.transform(Xm))


@pytest.mark.parametrize("kind", ["mcar", "mar", "mnar"])
def test_masks_hit_their_rate_and_follow_their_mechanism(kind):
    X = correlated(4000)
    mask = MASKS.get(kind)(X, 0.2, 3)
    assert abs(mask.mean() - 0.2) < 0.02
    np.testing.assert_array_equal(mask, MASKS.get(kind)(X, 0.2, 3))  # seeded
    col = int(np.argmax(mask.mean(0)))
    high = X[:, col] > np.median(X[:, col])
    gap = mask[high, col].mean() - mask[~high, col].mean()
    if kind == "mcar":
        assert abs(gap) < 0.05
    if kind == "mnar":
        assert gap > 0.15  # large values go missing more often
    if kind == "mar":
        observed = mask.sum(0) == 0
        assert observed.sum() == 3 and mask[:, ~observed].mean() > 0.35


def test_a_killed_fit_resumes_to_the_same_imputer(tmp_path):
    Xm, _ = with_missing(correlated(200))
    params = {**FAST, "max_steps": 120, "log_every": 20}
    whole = GANImputer(**params).fit(Xm)

    def kill_at_60(imputer, row):  # stands in for a killed process: stops after the step-60 checkpoint
        return row["step"] < 60

    GANImputer(**params, checkpoint_path=str(tmp_path / "imp.safetensors"), callback=kill_at_60).fit(Xm)
    loaded = GANImputer.load(tmp_path / "imp.safetensors", device="cpu")
    assert loaded.history_[-1]["step"] == 60
    resumed = loaded.fit(Xm)
    np.testing.assert_array_equal(resumed.transform(Xm), whole.transform(Xm))
    with pytest.raises(InputError, match="written for other data or parameters"):
        GANImputer.load(tmp_path / "imp.safetensors").set_params(max_steps=120).fit(Xm[:150])


def test_draws_of_a_bimodal_conditional_sit_on_both_modes_not_between():
    X = SYNTHETIC.get("rings")(1500, 0)
    mask = np.zeros(X.shape, dtype=bool)
    mask[:300, 1] = True  # x2 missing given x1: ±√(4 − x1²)
    Xm = np.where(mask, np.nan, X)
    imp = GANImputer(members=1, max_steps=3000, n_imputations=20, random_state=0, device="cpu").fit(Xm)
    rows = np.abs(X[:300, 0]) < 1  # where the two modes are far apart (|x2| > 1.7)
    x2 = imp.transform_draws(Xm[:300][rows])[:, :, 1]
    between = (np.abs(x2) < 1).mean()
    both = ((x2 > 1).any(0) & (x2 < -1).any(0)).mean()
    mean_imputed = np.abs(SimpleImputer().fit(Xm).transform(Xm[:300][rows])[:, 1]) < 1
    assert between < 0.3 and both > 0.8 and mean_imputed.all(), (between, both)
    assert crps(imp.transform_draws(Xm[:300]), X[:300], mask[:300]).mean() < 0.6 * np.abs(X[:300, 1]).mean()


def test_rubins_rules_match_a_hand_computed_example():
    # m = 3 estimates 1, 2, 3 with variances 0.1: Q̄ = 2, Ū = 0.1, B = 1, T = 0.1 + (4/3)·1,
    # λ = (4/3)/T, ν = (m − 1)/λ² (van Buuren, FIMD §2.3).
    p = rubin([1.0, 2.0, 3.0], [0.1, 0.1, 0.1])
    T = 0.1 + 4 / 3
    assert p.estimate[0] == 2.0 and p.within[0] == pytest.approx(0.1) and p.between[0] == pytest.approx(1.0)
    assert p.total[0] == pytest.approx(T) and p.df[0] == pytest.approx(2 / (4 / 3 / T) ** 2)
    lo, hi = p.ci(0.95)
    assert hi[0] - 2.0 == pytest.approx(stats.t.ppf(0.975, p.df[0]) * np.sqrt(T)) and lo[0] == pytest.approx(4.0 - hi[0])
    assert rubin([1.0, 2.0, 3.0], [0.1] * 3, complete_df=10).df[0] < p.df[0]  # Barnard–Rubin never above
    with pytest.raises(InputError, match="at least 2 imputations"):
        rubin([1.0], [0.1])


def test_pooled_regression_on_imputed_draws_covers_the_true_coefficient():
    X = SYNTHETIC.get("linear")(600, 1)
    Xm = np.where(MASKS.get("mcar")(X, 0.2, 1), np.nan, X)
    draws = GANImputer(members=2, max_steps=1500, n_imputations=10, random_state=0, device="cpu").fit(Xm).transform_draws(Xm)
    pooled = pool(draws, ols(target=5), complete_df=600 - 6)
    lo, hi = pooled.ci(0.95)
    truth = LINEAR_COEFFICIENTS[0]
    assert lo[1] < truth < hi[1] and pooled.between[1] > 0, (lo[1], hi[1])
    assert len(fit_each(LinearRegression(), draws[:, :, :5], draws[0, :, 5])) == 10


def test_one_draw_mode_is_the_first_draw_and_works_in_pipelines():
    X = correlated(300)
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    Xm, mask = with_missing(X, 0.2)
    imp = GANImputer(**{**FAST, "max_steps": 200}, sample_posterior=True).fit(Xm)
    one = imp.transform(Xm)
    np.testing.assert_allclose(one, imp.transform_draws(Xm)[0], rtol=1e-6)
    assert not np.allclose(one[mask], imp.set_params(sample_posterior=False).transform(Xm)[mask])
    pipe = make_pipeline(GANImputer(**{**FAST, "max_steps": 200}, sample_posterior=True), LogisticRegression(max_iter=1000))
    assert cross_val_score(pipe, Xm, y, cv=3).mean() > 0.8


def test_scores_of_draws_against_the_truth():
    rng = np.random.default_rng(0)
    truth, mask = rng.standard_normal((20000, 1)), np.ones((20000, 1), dtype=bool)
    calibrated = rng.standard_normal((20, 20000, 1))
    assert interval_coverage(calibrated, truth, mask) == pytest.approx(19 / 21, abs=0.01)
    assert interval_coverage(0.5 * calibrated, truth, mask) < 0.7  # too sure
    assert crps(calibrated, truth, mask).mean() == pytest.approx(1 / np.sqrt(np.pi), abs=0.01)  # N(0,1) vs N(0,1)
    np.testing.assert_allclose(crps(np.zeros((1, 20000, 1)), truth, mask), np.abs(truth[:, 0]))  # a point mass


def test_early_stopping_ends_on_the_best_validation_score_and_a_larger_budget_continues(tmp_path):
    Xm, _ = with_missing(correlated(200))
    imp = GANImputer(**{**FAST, "max_steps": 4000, "log_every": 20, "n_iter_no_change": 3}).fit(Xm)
    scores = [r["validation_score"] for r in imp.history_]
    assert imp.history_[-1]["step"] < 4000 and min(scores) < scores[-1]  # stopped early, after its best
    assert len(scores) - 1 - int(np.argmin(scores)) == 3
    path = str(tmp_path / "imp.safetensors")
    GANImputer(**{**FAST, "max_steps": 100, "log_every": 20}, checkpoint_path=path).fit(Xm)
    more = GANImputer.load(path, device="cpu").set_params(max_steps=140).fit(Xm)
    assert more.history_[-1]["step"] == 140
