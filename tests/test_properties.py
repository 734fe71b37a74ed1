"""Property-based tests: every public entry point either works or raises the project's documented error.

Hypothesis draws arrays of random shapes (0-3 dims, empty included), dtypes (floats of either byte
order, ints, bool, complex, strings, objects) and values (NaN, inf), labels out of range and data
that do not fit the model or env. For each case the call must either succeed with output of the
documented shape and finite values, or raise :class:`InputError` (:class:`CheckpointError` for
checkpoint files) — never a raw error from deep inside torch or numpy.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from safetensors.torch import save_file

from genrl.data import ring8
from genrl.errors import CheckpointError, InputError
from genrl.gail import RewardNet, check_demos
from genrl.gan import GANConfig, GANTrainer, MLPDiscriminator, MLPGenerator
from genrl.io import _digest, load_checkpoint, save_checkpoint
from genrl.metrics import energy_distance, frechet_distance_features, mmd_rbf, mode_metrics
from genrl.ssl import SSLGANClassifier
from genrl.transitions import Transitions
from genrl.validation import as_float_tensor, as_label_tensor
from genrl.worldmodel import make_world_model

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
QUICK = settings(max_examples=100, deadline=None)

DTYPES = ["float32", "float64", ">f8", "float16", "int64", "int8", "uint8", ">i4", "bool", "complex64", "U2", "object"]
SPECIAL = [float("nan"), float("inf"), -float("inf")]


def _elements(dtype: np.dtype, finite: bool) -> st.SearchStrategy[Any] | None:
    """Values for ``dtype``: moderate floats (plus NaN/inf unless ``finite``), mixed objects."""
    if dtype.kind == "f":
        numbers = st.floats(-100, 100, width=8 * dtype.itemsize)
        return numbers if finite else st.one_of(numbers, numbers, st.sampled_from(SPECIAL))
    if dtype.kind == "c":
        numbers = st.complex_numbers(max_magnitude=10, width=8 * dtype.itemsize)
        return numbers if finite else st.one_of(numbers, st.sampled_from(SPECIAL).map(complex))
    if dtype.kind == "O":
        return st.one_of(st.none(), st.text(max_size=2), st.floats(), st.integers(-3, 3))
    return None


@st.composite
def arrays(draw: st.DrawFn, shape: Any = None, dtypes: list[str] = DTYPES, finite: bool = False) -> np.ndarray:
    """An array of any of ``dtypes``; ``shape`` a strategy or tuple (default: 0-3 dims, sides 0-4)."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    if shape is None:
        shape = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype, finite)))


def rows(n: Any, d: Any, finite: bool = False, dtypes: list[str] = DTYPES) -> st.SearchStrategy[np.ndarray]:
    """``(n, d)`` arrays for strategies (or ints) ``n`` and ``d``; mostly real numbers."""
    as_st = lambda v: v if isinstance(v, st.SearchStrategy) else st.just(v)  # noqa: E731
    shape = st.tuples(as_st(n), as_st(d))
    numeric = ["float32", "float64", "int64"]
    return st.one_of(arrays(shape, numeric, finite), arrays(shape, numeric, finite), arrays(shape, dtypes, finite))


def anything(n: Any, d: Any) -> st.SearchStrategy[Any]:
    """Mostly ``(n, d)`` rows, sometimes any array, list of ragged rows or non-array."""
    odd = st.one_of(st.none(), st.just("abc"), st.just([[1.0, 2.0], [3.0]]), st.just({"a": 1}), st.integers(-2, 2))
    return st.one_of(rows(n, d), rows(n, d), rows(n, d), arrays(), odd)


def labels(n: Any, low: int = -2, high: int = 4) -> st.SearchStrategy[Any]:
    """Label arrays ``(n,)`` with values in ``[low, high]``, as ints, floats (some fractional) or worse."""
    n_st = n if isinstance(n, st.SearchStrategy) else st.just(n)
    ints = n_st.flatmap(
        lambda k: hnp.arrays(st.sampled_from(["int64", "int32", "uint8"]), (k,), elements=st.integers(0, high))
    )
    signed = n_st.flatmap(lambda k: hnp.arrays("int64", (k,), elements=st.integers(low, high)))
    floats = n_st.flatmap(lambda k: hnp.arrays("float64", (k,), elements=st.sampled_from([0.0, 1.0, 2.0, 0.5, float("nan")])))
    return st.one_of(ints, ints, signed, floats, arrays())


def _raises_or(fn: Any, error: type[Exception] = InputError) -> Any:
    """``fn()``'s result, or ``None`` when it raised ``error`` (any other exception fails the test)."""
    try:
        return fn()
    except error as e:
        assert str(e), "errors must say what was wrong"
        return None


def _is_real_numeric(x: Any) -> bool:
    """Whether ``x`` is an array (1+ dims) of real numbers or bools."""
    try:
        arr = np.asarray(x)
    except ValueError:  # ragged
        return False
    return arr.ndim > 0 and arr.dtype.kind in "fiub"


# ---------------------------------------------------------------------------------------- validation helpers
@QUICK
@given(x=st.one_of(arrays(), anything(st.integers(0, 3), st.integers(0, 3))), feature=st.sampled_from([None, (2,), (3, 1)]))
def test_as_float_tensor_returns_finite_float32_rows_or_input_error(x, feature):
    t = _raises_or(lambda: as_float_tensor(x, "x", feature))
    if t is not None:
        assert t.dtype == torch.float32 and t.dim() >= 1 and t.shape[0] >= 1 and torch.isfinite(t).all()
        assert feature is None or tuple(t.shape[1:]) == feature
        np.testing.assert_array_equal(t.numpy(), np.asarray(x).astype(np.float32))
    elif _is_real_numeric(x):  # refusing real data is right only when it is empty, misshapen or non-finite
        arr = np.asarray(x).astype(np.float64)
        assert arr.shape[0] == 0 or not np.isfinite(arr).all() or (feature is not None and arr.shape[1:] != feature)


@QUICK
@given(x=hnp.arrays("int64", hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3), elements=st.integers(-99, 99)))
def test_as_float_tensor_accepts_tensors_of_any_real_dtype(x):
    for dtype in (torch.float16, torch.bfloat16, torch.float64, torch.int32, torch.bool):
        t = as_float_tensor(torch.as_tensor(x).to(dtype), "x")
        assert t.dtype == torch.float32 and t.shape == x.shape


@QUICK
@given(y=st.one_of(labels(st.integers(0, 5)), arrays()), n=st.integers(0, 5), n_classes=st.sampled_from([None, 1, 3]),
       allow_unlabeled=st.booleans())  # fmt: skip
def test_as_label_tensor_returns_in_range_int64_or_input_error(y, n, n_classes, allow_unlabeled):
    t = _raises_or(lambda: as_label_tensor(y, "y", n, n_classes, allow_unlabeled))
    if t is not None:
        assert t.dtype == torch.int64 and t.shape == (n,)
        assert (t >= (-1 if allow_unlabeled else 0)).all() and (n_classes is None or (t < n_classes).all())
        np.testing.assert_array_equal(t.numpy(), np.asarray(y))


@QUICK
@given(y=st.sampled_from([torch.float16, torch.bfloat16, torch.int32, torch.uint8, torch.bool]))
def test_as_label_tensor_accepts_label_tensors_of_any_real_dtype(y):
    t = as_label_tensor(torch.tensor([0, 1, 1]).to(y), "y", 3, 2)
    assert t.tolist() == [0, 1, 1]


# ---------------------------------------------------------------------------------------- GAN trainer
def _gan(d: int, n_classes: int) -> GANTrainer:
    G = MLPGenerator(2, d, (4,), norm="none", n_classes=n_classes)
    D = MLPDiscriminator(d, (4,), n_classes=n_classes)
    return GANTrainer(G, D, GANConfig(batch_size=4), device="cpu")


@FAST
@given(X=anything(st.integers(0, 5), st.integers(1, 3)), y=st.one_of(st.none(), labels(st.integers(0, 6))),
       n_classes=st.sampled_from([0, 3]))  # fmt: skip
def test_gan_fit_trains_or_raises_input_error(X, y, n_classes):
    trainer = _gan(2, n_classes)
    if _raises_or(lambda: trainer.fit(X, y, steps=1, progress=False)) is not None:
        assert trainer.step_count == 1 and np.isfinite(trainer.history[-1]["d_loss"])
        assert trainer.sample(3, [0, 1, 2] if n_classes else None).shape == (3, 2)


@FAST
@given(n=st.one_of(st.integers(-2, 6), st.floats(-1, 4), st.just("3"), st.none(), st.just(np.int64(2))),
       y=st.one_of(st.none(), labels(st.integers(0, 6)), st.just([0, 1])), n_classes=st.sampled_from([0, 3]))  # fmt: skip
def test_gan_sample_gives_n_finite_samples_or_input_error(n, y, n_classes):
    out = _raises_or(lambda: _gan(2, n_classes).sample(n, y))
    if out is not None:
        assert isinstance(n, (int, np.integer)) and out.shape == (n, 2) and torch.isfinite(out).all()


@FAST
@given(batch_size=st.integers(1, 3), d_steps=st.integers(1, 3), norm=st.sampled_from(["batch", "virtual", "none"]),
       n=st.integers(1, 4))  # fmt: skip
def test_gan_fit_small_batches_work_or_raise_input_error(batch_size, d_steps, norm, n):
    G = MLPGenerator(2, 2, (4,), norm=norm, ref_size=4)
    trainer = GANTrainer(G, MLPDiscriminator(2, (4,)), GANConfig(batch_size=batch_size, d_steps=d_steps), device="cpu")
    X = np.random.default_rng(0).normal(size=(n, 2))
    if _raises_or(lambda: trainer.fit(X, steps=1, progress=False)) is not None:
        assert trainer.step_count == 1


# ---------------------------------------------------------------------------------------- SSL classifier
def _ssl(batch_size: int) -> SSLGANClassifier:
    return SSLGANClassifier(hidden=(4,), generator_hidden=(4,), latent_dim=2, batch_size=batch_size, max_steps=2, log_every=1,
                            polyak_decay=0.0, random_state=0, device="cpu")  # fmt: skip


@FAST
@given(data=st.data(), n=st.integers(0, 6), d=st.integers(1, 3), batch_size=st.sampled_from([1, 4]))
def test_ssl_fit_predict_or_input_error(data, n, d, batch_size):
    X = data.draw(st.one_of(rows(n, d), rows(n, d), arrays()), "X")
    y = data.draw(st.one_of(labels(n), labels(n), labels(st.integers(0, 7))), "y")
    clf = _ssl(batch_size)
    if _raises_or(lambda: clf.fit(X, y)) is None:
        return
    Xf = np.asarray(X, dtype=np.float32)
    pred = clf.predict(Xf)
    assert pred.shape == (len(Xf),) and set(pred) <= set(clf.classes_)
    proba = clf.predict_proba(Xf)
    assert proba.shape == (len(Xf), len(clf.classes_)) and np.allclose(proba.sum(1), 1.0)
    wrong = data.draw(anything(st.integers(0, 3), st.integers(1, 4)), "X_predict")
    out = _raises_or(lambda: clf.predict(wrong))
    if out is not None:
        assert np.asarray(wrong).shape[1:] == Xf.shape[1:] and out.shape == (len(wrong),)


# ---------------------------------------------------------------------------------------- world models
@st.composite
def transition_fields(
    draw: st.DrawFn,
    obs_dim: st.SearchStrategy[int] | None = None,
    act_dim: st.SearchStrategy[int] | None = None,
    valid: bool = False,
) -> dict[str, Any]:
    """Keyword arguments of :class:`Transitions`: mostly ``n`` rows each, sometimes one is off or holds NaN.

    ``valid``: always a well-formed batch (for entry points that take ``Transitions``), only the dims vary.
    """
    n = draw(st.integers(1, 5) if valid else st.integers(0, 5))
    obs_dim = draw(st.integers(1, 4) if obs_dim is None else obs_dim)
    act_dim = draw(st.integers(1, 2) if act_dim is None else act_dim)
    length = lambda: n if valid else draw(st.sampled_from([n, n, n, n, n + 1, max(n - 1, 0)]))  # noqa: E731
    dtypes = ["float32", "float64", "int64"] if valid else DTYPES
    rew = arrays((n,), dtypes, valid) if valid else st.one_of(arrays((length(),), dtypes), arrays((length(), 2)), arrays())
    return {"obs": draw(rows(length(), obs_dim, valid, dtypes)),
            "act": draw(rows(length(), act_dim, valid, dtypes)),
            "next_obs": draw(rows(length(), obs_dim if valid else st.sampled_from([obs_dim, obs_dim, obs_dim + 1]), valid,
                                  dtypes)),
            "rew": draw(rew),
            "terminated": draw(arrays((length(),), ["bool", "int64"], True)),
            "truncated": draw(arrays((length(),), ["bool"], True))}  # fmt: skip


@QUICK
@given(fields=transition_fields())
def test_transitions_are_consistent_or_input_error(fields):
    t = _raises_or(lambda: Transitions(**fields))
    if t is not None:
        n = len(t)
        assert n >= 1 and t.obs.shape == t.next_obs.shape and t.obs.shape[0] == t.act.shape[0] == n
        assert t.rew.shape == t.terminated.shape == t.truncated.shape == (n,)
        assert all(np.isfinite(a).all() for a in (t.obs, t.act, t.next_obs, t.rew))


@cache
def _world_model(kind: str) -> Any:
    """A world model for obs (B, 3), actions (B, 1), fitted for one step (cached: fitting is not under test here)."""
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(8, 3))
    data = Transitions(obs, rng.normal(size=(8, 1)), obs + 0.1, rng.normal(size=8), np.arange(8) % 4 == 0, np.zeros(8))
    return make_world_model(kind, 3, 1, hidden=(8,)).fit(data, steps=1, batch_size=4, device="cpu")


@FAST
@given(kind=st.sampled_from(["mlp", "ensemble", "gan"]), fields=transition_fields(st.integers(2, 4), st.integers(1, 2), True),
       batch_size=st.sampled_from([-1, 0, 4]))  # fmt: skip
def test_world_model_fit_on_any_transitions_or_input_error(kind, fields, batch_size):
    data = Transitions(**fields)
    model = make_world_model(kind, 3, 1, hidden=(8,))
    if _raises_or(lambda: model.fit(data, steps=1, batch_size=batch_size, device="cpu")) is not None:
        assert data.obs.shape[1] == 3 and data.act.shape[1] == 1 and len(data) >= 2 and batch_size >= 1
        pred = model.sample(data.obs, data.act, 2)
        assert torch.isfinite(pred.next_obs).all() and torch.isfinite(pred.reward).all()


@FAST
@given(kind=st.sampled_from(["mlp", "ensemble", "gan"]), b=st.integers(0, 3), obs_dim=st.integers(2, 4),
       act_dim=st.integers(0, 2), data=st.data(), n=st.one_of(st.integers(-1, 3), st.just(2.5)))  # fmt: skip
def test_world_model_sample_or_input_error(kind, b, obs_dim, act_dim, data, n):
    obs = data.draw(anything(b, obs_dim), "obs")
    act = data.draw(st.one_of(anything(b, act_dim), arrays((b,), ["float32", "int64"])), "act")
    pred = _raises_or(lambda: _world_model(kind).sample(obs, act, n))
    if pred is not None:
        assert pred.next_obs.shape == (b, n, 3) and pred.reward.shape == pred.terminated.shape == (b, n)
        assert torch.isfinite(pred.next_obs).all() and torch.isfinite(pred.reward).all()


@QUICK
@given(kind=st.sampled_from(["mlp", "ensemble", "gan", "rnn"]), obs_dim=st.integers(-1, 3), act_dim=st.integers(-1, 2),
       hidden=st.sampled_from([(), (4,), (0,), (-2,)]))  # fmt: skip
def test_make_world_model_builds_or_input_error(kind, obs_dim, act_dim, hidden):
    model = _raises_or(lambda: make_world_model(kind, obs_dim, act_dim, hidden=hidden))
    if model is not None:
        pred = model.sample(np.zeros((2, obs_dim)), np.zeros((2, act_dim)), 2)
        assert pred.next_obs.shape == (2, 2, obs_dim)


# ---------------------------------------------------------------------------------------- GAIL
ENVS = {"CartPole-v1": (4, 2, True), "Pendulum-v1": (3, 1, False)}  # obs_dim, act_dim (or actions), discrete
CARTPOLE_OBS = {"observation_space": {"kind": "Box", "shape": [4]}}  # demos' record of the space they came from


@FAST
@given(env_id=st.sampled_from(sorted(ENVS)), b=st.integers(0, 3), obs_dim=st.integers(2, 5), data=st.data())
def test_reward_net_inputs_or_input_error(env_id, b, obs_dim, data):
    d_obs, d_act, discrete = ENVS[env_id]
    net = RewardNet(d_obs, d_act, discrete, hidden=(4,))
    obs = data.draw(anything(b, obs_dim), "obs")
    act = data.draw(st.one_of(labels(b, -1, 3), rows(b, st.integers(1, 2)), arrays()), "act")
    x = _raises_or(lambda: net.inputs(obs, act))
    if x is not None:
        assert x.shape == (b, d_obs + d_act) and torch.isfinite(x).all() and b >= 1
        if discrete:  # one-hot actions
            assert (x[:, d_obs:].sum(1) == 1).all()
        assert net.reward(obs, act).shape == (b,)


@FAST
@given(env_id=st.sampled_from(sorted(ENVS)), fields=transition_fields(st.integers(2, 5), st.integers(1, 2), True),
       discrete_acts=st.booleans(), meta=st.sampled_from([{}, CARTPOLE_OBS]))  # fmt: skip
def test_check_demos_accepts_only_demos_that_fit_the_env(env_id, fields, discrete_acts, meta):
    if discrete_acts:  # give the actions a fair chance of being valid CartPole actions
        fields["act"] = np.asarray(fields["act"]).round() % 3
    demos = Transitions(**fields, meta=meta)
    env = gym.make(env_id)
    out = _raises_or(lambda: check_demos(demos, env))
    if out is not None:
        d_obs, d_act, discrete = ENVS[env_id]
        assert out is demos and demos.obs.shape[1] == d_obs and demos.act.shape[1] == (1 if discrete else d_act)
        assert not discrete or set(np.unique(demos.act)) <= {0.0, 1.0}


# ---------------------------------------------------------------------------------------- metrics
@QUICK
@given(data=st.data(), n=st.integers(0, 4), m=st.integers(0, 4), d=st.integers(1, 3), e=st.integers(1, 3))
def test_distances_are_finite_or_input_error(data, n, m, d, e):
    x = data.draw(anything(n, d), "x")
    y = data.draw(anything(m, st.sampled_from([d, d, e])), "y")
    for fn in (energy_distance, mmd_rbf, frechet_distance_features):
        v = _raises_or(lambda: fn(x, y))  # noqa: B023
        if v is not None:
            assert isinstance(v, float) and np.isfinite(v), fn.__name__
            assert np.asarray(x).shape[1:] == np.asarray(y).shape[1:]


@QUICK
@given(samples=anything(st.integers(0, 5), st.integers(1, 3)))
def test_mode_metrics_in_range_or_input_error(samples):
    mix = ring8()
    m = _raises_or(lambda: mode_metrics(samples, mix))
    if m is not None:
        assert 0 <= m["modes"] <= len(mix.centers) and 0.0 <= m["hq_fraction"] <= 1.0 and m["reverse_kl"] >= 0.0
        assert np.asarray(samples).shape[1:] == (2,)


# ---------------------------------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("ckpt") / "c.safetensors"
    save_checkpoint(path, {"kind": "X", "w": torch.arange(6.0).reshape(2, 3), "opt": {0: [1, 2.5, None, "a"]}})
    return path.read_bytes()


@FAST
@given(data=st.binary(max_size=200))
def test_load_checkpoint_refuses_random_bytes(tmp_path, data):
    path = tmp_path / "random.safetensors"
    path.write_bytes(data)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


@FAST
@given(data=st.data())
def test_load_checkpoint_refuses_truncated_files(tmp_path, checkpoint_bytes, data):
    cut = data.draw(st.integers(0, len(checkpoint_bytes) - 1))
    path = tmp_path / "cut.safetensors"
    path.write_bytes(checkpoint_bytes[:cut])
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


@FAST
@given(data=st.data())
def test_load_checkpoint_altered_byte_is_refused_or_harmless(tmp_path, checkpoint_bytes, data):
    i = data.draw(st.integers(0, len(checkpoint_bytes) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda v: v != checkpoint_bytes[i]))
    path = tmp_path / "flip.safetensors"
    path.write_bytes(checkpoint_bytes[:i] + bytes([new]) + checkpoint_bytes[i + 1 :])
    state = _raises_or(lambda: load_checkpoint(path, kind="X"), CheckpointError)
    if state is not None:  # e.g. header padding changed from one blank to another
        assert torch.equal(state["w"], torch.arange(6.0).reshape(2, 3)) and state["opt"] == {0: [1, 2.5, None, "a"]}


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=6)  # fmt: skip


@FAST
@given(state=st.one_of(JSON, st.fixed_dictionaries({"kind": JSON}), st.just({"__tensor__": "s.w"}),
                       st.just({"__dict__": [["kind", "X"], ["w", {"__tensor__": "missing"}]]})),
       kind=st.sampled_from([None, "X"]))  # fmt: skip
def test_load_checkpoint_with_a_valid_checksum_but_foreign_state(tmp_path, state, kind):
    # A file that passes the checksum but whose state was not written by save_checkpoint.
    tensors = {"s.w": torch.zeros(2)}
    state_json = json.dumps(state)
    meta = {"format": "genrl-checkpoint-1", "state": state_json, "sha256": _digest(tensors, state_json)}
    path = tmp_path / "forged.safetensors"
    save_file(tensors, str(path), metadata=meta)
    out = _raises_or(lambda: load_checkpoint(path, kind=kind), CheckpointError)
    if out is not None:
        assert isinstance(out, dict) and (kind is None or out["kind"] == kind)
