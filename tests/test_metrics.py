import numpy as np
import pytest

from genrl.data import grid25, ring8
from genrl.metrics import energy_distance, frechet_distance, mmd_rbf, mode_metrics


@pytest.mark.parametrize("mixture", [ring8(), grid25()])
def test_true_samples_score_perfectly(mixture):
    x, _ = mixture.sample(2500, 1)
    m = mode_metrics(x, mixture)
    assert m["modes"] == len(mixture.centers)
    assert m["hq_fraction"] > 0.98  # a 2-D Gaussian holds 1 - exp(-9/2) = 98.9% of its mass within 3σ
    assert m["reverse_kl"] < 0.02


def test_collapsed_samples_are_caught():
    mix = ring8()
    x = np.tile(mix.centers[:1], (100, 1))
    m = mode_metrics(x, mix)
    assert m == {"modes": 1, "hq_fraction": 1.0, "reverse_kl": pytest.approx(np.log(8)), "spread": 0.0}  # a point mass
    blurry = mode_metrics(mix.sample(2500, 0)[0] * 1.2, mix)
    assert blurry["hq_fraction"] < 0.01 and blurry["reverse_kl"] == float("inf")


def test_energy_distance_known_values():
    a, b = np.zeros((50, 2)), np.zeros((60, 2)) + [3.0, 4.0]
    assert energy_distance(a, b) == pytest.approx(10.0)  # 2*5 - 0 - 0
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(800, 2)), rng.normal(size=(800, 2))
    assert abs(energy_distance(x, y)) < 0.02
    assert energy_distance(x, y + 1.0) > 0.5


def test_mmd_is_near_zero_for_equal_distributions_and_positive_otherwise():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))
    assert abs(mmd_rbf(x, y)) < 0.01
    assert mmd_rbf(x, y + 1.0) > 0.1


def test_frechet_distance_analytic_values():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T + np.eye(4)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    # Equal covariances: only the squared mean difference remains (pytorch-fid's analytic test).
    assert frechet_distance(mu1, cov, mu2, cov) == pytest.approx(((mu1 - mu2) ** 2).sum(), rel=1e-6, abs=1e-8)
    # Diagonal covariances: sum (sqrt(s1) - sqrt(s2))^2.
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.0])
    expected = ((np.sqrt(s1) - np.sqrt(s2)) ** 2).sum()
    assert frechet_distance(np.zeros(3), np.diag(s1), np.zeros(3), np.diag(s2)) == pytest.approx(expected)


def test_spread_is_about_one_for_true_samples_and_exposes_shrunk_modes():
    from genrl.data import grid25

    mix = grid25()
    x, modes = mix.sample(2500, seed=0)
    assert 0.95 < mode_metrics(x, mix)["spread"] < 1.0  # the 3σ cut trims the tails a little
    shrunk = mix.centers[modes] + 0.3 * (x - mix.centers[modes])  # every sample high quality, modes too narrow
    m = mode_metrics(shrunk, mix)
    assert m["hq_fraction"] == 1.0 and abs(m["spread"] - 0.3) < 0.02


def test_mixture_probe_scores_along_training_and_at_the_last_step():
    from genrl.data import ring8
    from genrl.gan.presets import toy_trainer
    from genrl.metrics import MixtureProbe

    mixture, rows = ring8(), []
    trainer = toy_trainer("ring8", "non_saturating", tricks=True, seed=0, device="cpu")
    probe = MixtureProbe(mixture, every=20, last=50, seed=0, emit=rows.append)
    trainer.fit(mixture.sample(2000, 0)[0], steps=50, progress=False, log_every=10, callback=probe)
    assert [r["step"] for r in rows] == [20, 40, 50]
    assert {"modes", "hq_fraction", "reverse_kl", "spread", "energy_distance", "seconds"} <= set(rows[-1])
    assert 0 < rows[0]["seconds"] <= rows[-1]["seconds"]


def test_a_loss_specific_recipe_overrides_the_mixtures_own(monkeypatch):
    from genrl.gan import presets

    special = presets.ToyRecipe(steps=7, d_steps=3, betas=(0.5, 0.9))
    monkeypatch.setitem(presets.TOY_RECIPES, "ring8/hinge", special)
    assert presets.toy_recipe("ring8", "hinge") is special
    assert presets.toy_recipe("ring8", "non_saturating") is presets.TOY_RECIPES["ring8"]
    trainer = presets.toy_trainer("ring8", "hinge", tricks=True)
    assert trainer.config.d_steps == 3 and trainer.config.betas == (0.5, 0.9)


def test_toy_goal_needs_every_mode_hq_and_spread():
    from genrl.gan.presets import TOY_GOALS

    good = {"modes": 25, "hq_fraction": 0.97, "reverse_kl": 0.01, "spread": 0.9}
    assert TOY_GOALS["grid25"].met(good, 25)
    assert not TOY_GOALS["grid25"].met({**good, "modes": 24}, 25)
    assert not TOY_GOALS["grid25"].met({**good, "spread": 0.7}, 25)
    assert not TOY_GOALS["grid25"].met({**good, "reverse_kl": 0.05}, 25)
