"""GANImputer: imputing new rows, categorical columns, bad input, scikit-learn composition, quality."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from genrl.errors import InputError
from genrl.impute import MASKS, GANImputer

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
