import math

import pytest
import torch

from genrl.errors import InputError
from genrl.gan.losses import LOSSES, get_loss


def sig(x):
    return 1 / (1 + math.exp(-x))


REAL, FAKE = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])


def test_discriminator_cost_matches_hand_computation():
    expected = (
        -0.5 * sum(math.log(sig(r)) for r in REAL.tolist()) / 2 - 0.5 * sum(math.log(1 - sig(f)) for f in FAKE.tolist()) / 2
    )
    for name in ("minimax", "non_saturating", "maximum_likelihood"):
        assert get_loss(name).d_loss(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_one_sided_label_smoothing_moves_only_real_targets():
    t = 0.9
    expected = (
        -0.5 * sum(t * math.log(sig(r)) + (1 - t) * math.log(1 - sig(r)) for r in REAL.tolist()) / 2
        - 0.5 * sum(math.log(1 - sig(f)) for f in FAKE.tolist()) / 2
    )
    assert get_loss("non_saturating").d_loss(REAL, FAKE, real_target=t).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "name, fn",
    [
        ("minimax", lambda f: 0.5 * math.log(1 - sig(f))),
        ("non_saturating", lambda f: -0.5 * math.log(sig(f))),
        ("maximum_likelihood", lambda f: -0.5 * math.exp(f)),  # σ⁻¹(D) is the logit itself
        ("hinge", lambda f: -f),
        ("wasserstein", lambda f: -f),
        ("least_squares", lambda f: 0.5 * (f - 1) ** 2),
    ],
)
def test_generator_costs_match_hand_computation(name, fn):
    expected = sum(fn(f) for f in FAKE.tolist()) / 2
    assert get_loss(name).g_loss(FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_minimax_generator_cost_is_minus_discriminator_cost_up_to_the_real_term():
    loss = get_loss("minimax")
    real_term = 0.5 * torch.nn.functional.softplus(-REAL).mean()
    assert (-loss.d_loss(REAL, FAKE)).item() == pytest.approx((loss.g_loss(FAKE) - real_term).item(), rel=1e-6)


def test_other_discriminator_costs():
    assert get_loss("hinge").d_loss(REAL, FAKE).item() == pytest.approx(((0 + 2) / 2) + ((1.5 + 0) / 2))
    assert get_loss("wasserstein").d_loss(REAL, FAKE).item() == pytest.approx(FAKE.mean() - REAL.mean())
    ls = 0.5 * ((1.0**2 + 2.0**2) / 2) + 0.5 * ((0.25 + 9.0) / 2)
    assert get_loss("least_squares").d_loss(REAL, FAKE).item() == pytest.approx(ls)


def test_non_saturating_has_larger_gradient_than_minimax_when_d_rejects_samples():
    # D(G(z)) ≈ 0 early in training: logit -8 -> D ≈ 3e-4.
    grads = {}
    for name in ("minimax", "non_saturating"):
        logit = torch.tensor([-8.0], requires_grad=True)
        get_loss(name).g_loss(logit).backward()
        grads[name] = logit.grad.abs().item()
    assert grads["non_saturating"] > 100 * grads["minimax"]
    # And at D = ½ both games push equally hard.
    for name in ("minimax", "non_saturating"):
        logit = torch.tensor([0.0], requires_grad=True)
        get_loss(name).g_loss(logit).backward()
        assert logit.grad.abs().item() == pytest.approx(0.25)


def test_losses_stay_finite_for_extreme_logits():
    big = torch.tensor([-200.0, 200.0])
    for name in LOSSES:
        if name != "maximum_likelihood":  # exp(logit) is unbounded by definition
            assert torch.isfinite(get_loss(name).d_loss(big, big))
            assert torch.isfinite(get_loss(name).g_loss(big))


def test_unknown_loss_names_the_choices():
    with pytest.raises(InputError, match="unknown GAN loss 'wgan'.*non_saturating"):
        get_loss("wgan")


def test_energy_score_known_values_and_propriety():
    from genrl.gan.regularizers import energy_score

    y = torch.zeros(1, 1)
    # Samples ±1 around y = 0: E|X - y| = 1 and E|X - X'| = 2 over the one distinct pair, so the score is 0.
    assert energy_score(torch.tensor([[[1.0], [-1.0]]]), y).item() == pytest.approx(1.0 - 0.5 * 2.0)
    # On a bimodal target (±1 with equal odds) the true distribution scores better than its mean, 0.
    gen = torch.Generator().manual_seed(0)
    target = torch.randint(0, 2, (4000, 1), generator=gen).float() * 2 - 1
    truth = torch.randint(0, 2, (4000, 8, 1), generator=gen).float() * 2 - 1
    collapsed = torch.zeros(4000, 8, 1)
    assert energy_score(truth, target) < energy_score(collapsed, target) - 0.2  # expected 0.5 vs 1.0
