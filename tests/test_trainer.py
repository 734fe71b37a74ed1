import copy

import numpy as np
import pytest
import torch

from genrl.errors import DivergenceError, InputError
from genrl.gan import GANConfig, GANTrainer, MLPDiscriminator, MLPGenerator, get_loss


def small(config=None, n_classes=0, **d_kw):
    torch.manual_seed(0)
    G = MLPGenerator(4, 2, (16, 16), norm="none", n_classes=n_classes)
    D = MLPDiscriminator(2, (16, 16), n_classes=n_classes, **d_kw)
    return GANTrainer(G, D, config or GANConfig(batch_size=32), device="cpu", seed=0)


DATA = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32)


def test_simultaneous_update_takes_both_gradients_at_the_same_parameters():
    t = small(GANConfig(update="simultaneous", batch_size=8, lr_g=0.1, lr_d=0.1))
    G0, D0 = copy.deepcopy(t.G), copy.deepcopy(t.D)
    real = torch.tensor(DATA[:8])
    z = torch.randn(8, 4, generator=torch.Generator().set_state(t.rng.get_state()))  # the noise step() will draw
    t.step(real)
    # By hand: both gradients at (G0, D0) on the same (x, z), then one Adam step each.
    loss = get_loss("non_saturating")
    fake = G0(z)
    d_loss = loss.d_loss(D0(real), D0(fake.detach()))
    g_loss = loss.g_loss(D0(fake))
    gd = torch.autograd.grad(d_loss, list(D0.parameters()))
    gg = torch.autograd.grad(g_loss, list(G0.parameters()))
    # Adam's first step moves each weight by lr * g / (|g| + eps).
    for p0, p1, g in [*zip(D0.parameters(), t.D.parameters(), gd), *zip(G0.parameters(), t.G.parameters(), gg)]:
        torch.testing.assert_close(p1, p0 - 0.1 * g / (g.abs() + 1e-8), atol=1e-5, rtol=0)


def test_alternating_update_does_d_steps_then_one_g_step():
    t = small(GANConfig(d_steps=3, batch_size=8))
    calls = {"d": 0, "g": 0}
    t.opt_d.register_step_post_hook(lambda *a: calls.__setitem__("d", calls["d"] + 1))
    t.opt_g.register_step_post_hook(lambda *a: calls.__setitem__("g", calls["g"] + 1))
    t.step(torch.tensor(DATA[:24]))
    assert calls == {"d": 3, "g": 1}


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "maximum_likelihood", "hinge", "wasserstein", "least_squares"])
def test_every_loss_and_trick_trains_without_error(loss):
    smoothing = 0.1 if get_loss(loss).smoothing else 0.0
    cfg = GANConfig(loss=loss, batch_size=32, label_smoothing=smoothing, feature_matching=1.0, historical_averaging=1e-3,
                    r1=1.0, ema_decay=0.9, lr_schedule="linear")  # fmt: skip
    t = small(cfg, minibatch_kernels=4)
    t.fit(DATA, steps=20, progress=False, log_every=5)
    assert t.step_count == 20 and len(t.history) == 4
    assert t.sample(7).shape == (7, 2)


def test_conditional_training_with_projection_and_auxiliary_heads():
    y = (DATA[:, 0] > 0).astype(np.int64)
    for conditioning in ("projection", "auxiliary"):
        t = small(GANConfig(batch_size=16), n_classes=2, conditioning=conditioning)
        t.fit(DATA, y, steps=5, progress=False)
        assert t.sample(4, labels=[0, 1, 1, 0]).shape == (4, 2)


def test_resume_continues_exactly(tmp_path):
    cfg = GANConfig(batch_size=32, historical_averaging=1e-3, ema_decay=0.9, gradient_penalty=1.0)
    straight = small(cfg).fit(DATA, steps=30, progress=False, log_every=10)
    first = small(cfg).fit(DATA, steps=10, progress=False, log_every=10, checkpoint_path=tmp_path / "c.safetensors")
    resumed = GANTrainer.load(tmp_path / "c.safetensors", device="cpu")
    assert resumed.step_count == 10 and first.step_count == 10
    resumed.fit(DATA, steps=30, progress=False, log_every=10)
    for a, b in zip(straight.G.state_dict().values(), resumed.G.state_dict().values()):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(straight.sample(5), resumed.sample(5))
    assert [r["step"] for r in resumed.history] == [10, 20, 30]


def test_divergence_is_reported_with_its_step():
    t = small(GANConfig(batch_size=16))
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("nan"))
    with pytest.raises(DivergenceError, match="GAN diverged: non-finite loss at step 1"):
        t.fit(DATA, steps=10, progress=False, log_every=5)


def test_divergence_never_overwrites_the_last_good_checkpoint(tmp_path):
    t = small(GANConfig(batch_size=16))
    ckpt = tmp_path / "c.safetensors"
    t.fit(DATA, steps=4, progress=False, log_every=10, checkpoint_path=ckpt, checkpoint_every=4)
    with torch.no_grad():
        next(t.G.parameters()).fill_(float("nan"))
    with pytest.raises(DivergenceError, match=f"step 5; the last good checkpoint is {str(ckpt)!r}"):
        t.fit(DATA, steps=20, progress=False, log_every=10, checkpoint_path=ckpt, checkpoint_every=3)
    good = GANTrainer.load(ckpt, device="cpu")
    assert good.step_count == 4 and all(torch.isfinite(p).all() for p in good.G.parameters())


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.full((10, 2), np.nan, dtype=np.float32), None, "NaN or inf"),
        (np.zeros((10, 3), dtype=np.float32), None, r"shape \(N, 2\)"),
        (np.zeros((0, 2), dtype=np.float32), None, "empty"),
        (np.array([["a", "b"]]), None, "numeric"),
        (np.zeros((10, 2), dtype=np.float32), np.zeros(10), "unconditional"),
    ],
)
def test_bad_training_data_is_refused(X, y, match):
    with pytest.raises(InputError, match=match):
        small().fit(X, y, steps=1, progress=False)


def test_bad_labels_and_config_are_refused():
    t = small(GANConfig(batch_size=16), n_classes=3)
    with pytest.raises(InputError, match=r"labels outside \[0, 2\]"):
        t.fit(DATA[:10], np.array([0, 1, 2, 3, 0, 1, 2, 0, 1, 2]), steps=1, progress=False)
    with pytest.raises(InputError, match="pass labels"):
        t.fit(DATA[:10], steps=1, progress=False)
    with pytest.raises(InputError, match="unknown GAN loss"):
        small(GANConfig(loss="nope"))
    with pytest.raises(InputError, match="no real targets"):
        small(GANConfig(loss="hinge", label_smoothing=0.1))
    with pytest.raises(InputError, match="alternating"):
        small(GANConfig(update="simultaneous", d_steps=2))
    with pytest.raises(InputError, match="betas"):
        small(GANConfig(betas=(1.5, 0.9)))
    with pytest.raises(InputError, match="gradient_penalty"):
        small(GANConfig(gradient_penalty=float("nan")))
    with pytest.raises(InputError, match=r"samples of shape \(3,\) but the discriminator takes \(2,\)"):
        GANTrainer(MLPGenerator(4, 3, (8,)), MLPDiscriminator(2, (8,)), device="cpu")


@pytest.mark.slow
def test_ring8_training_reaches_all_eight_modes():
    from genrl.data import ring8
    from genrl.gan.presets import toy_trainer
    from genrl.metrics import mode_metrics

    mixture = ring8()
    X = mixture.sample(20_000, 0)[0]
    trainer = toy_trainer("ring8", "non_saturating", tricks=True, seed=0, device="cpu").fit(X, steps=1500, progress=False)
    m = mode_metrics(trainer.sample(2500).cpu().numpy(), mixture)
    assert m["modes"] == 8 and m["reverse_kl"] < 0.5, m


@pytest.mark.parametrize(
    "trick",
    [
        {"label_smoothing": 0.2},
        {"feature_matching": 1.0},
        {"historical_averaging": 10.0},
        {"r1": 10.0},
        {"gradient_penalty": 10.0},
        {"update": "simultaneous"},
    ],
)
def test_each_trick_changes_the_update(trick):
    def params_after(cfg):
        t = small(cfg)
        for _ in range(3):  # historical averaging only bites once the average differs from the weights
            t.step(torch.tensor(DATA[:32]))
        return torch.cat([p.flatten() for p in [*t.G.parameters(), *t.D.parameters()]])

    base = params_after(GANConfig(batch_size=32))
    assert not torch.allclose(base, params_after(GANConfig(batch_size=32, **trick)))
    assert torch.equal(base, params_after(GANConfig(batch_size=32)))  # and the comparison itself is deterministic


def test_ema_generator_is_used_for_sampling():
    t = small(GANConfig(batch_size=32, ema_decay=0.9))
    t.fit(DATA, steps=5, progress=False)
    z_state = t.rng.get_state()
    s_ema = t.sample(4)
    t.rng.set_state(z_state)
    t.ema = None
    assert not torch.allclose(s_ema, t.sample(4))


@pytest.mark.parametrize("max_norm", [None, 0.5])
def test_the_discriminators_gradient_is_clipped_to_its_max_norm_before_it_steps(max_norm):
    from genrl.gan.update import AdversarialUpdate

    torch.manual_seed(0)
    D = MLPDiscriminator(4, hidden=(16,))
    before = [p.detach().clone() for p in D.parameters()]
    up = AdversarialUpdate(D, torch.optim.SGD(D.parameters(), lr=0.1), get_loss("non_saturating"), d_max_grad_norm=max_norm)
    loss, _ = up.discriminator_loss(100 * torch.randn(64, 4), 100 * torch.randn(64, 4))  # gradients far above 0.5
    up.step_discriminator(loss)
    grad_norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in D.parameters()])).item()
    step_norm = torch.linalg.vector_norm(torch.stack([(p - b).norm() for p, b in zip(D.parameters(), before)])).item()
    assert step_norm == pytest.approx(0.1 * grad_norm, rel=1e-4)  # SGD applied the gradient left in .grad
    assert grad_norm == pytest.approx(0.5, rel=1e-4) if max_norm else grad_norm > 5
