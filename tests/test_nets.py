import pytest
import torch

from genrl.errors import InputError
from genrl.gan.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, build_net


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
@pytest.mark.parametrize("norm", ["batch", "virtual", "none"])
def test_dcgan_nets_are_sized_by_the_data(shape, norm):
    G = DCGANGenerator(16, shape, base_channels=8, norm=norm, ref_size=4)
    D = DCGANDiscriminator(shape, base_channels=8)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, *shape) and x.abs().max() <= 1
    assert D(x).shape == (5,)
    assert not any(isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d, torch.nn.Upsample)) for m in G.modules())
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in G.modules())


def test_conditional_nets_and_label_checks():
    G = MLPGenerator(4, 3, (8,), n_classes=5)
    D = MLPDiscriminator(3, (8,), n_classes=5, conditioning="auxiliary")
    y = torch.tensor([0, 4, 2])
    x = G(torch.randn(3, 4), y)
    assert D(x, y).shape == (3,) and D.classify(D.features(x)).shape == (3, 5)
    with pytest.raises(InputError, match="conditional on 5 classes"):
        G(torch.randn(3, 4))
    with pytest.raises(InputError, match="shape"):
        G(torch.randn(3, 4), torch.tensor([0, 1]))
    with pytest.raises(InputError, match="unconditional"):
        MLPGenerator(4, 3, (8,))(torch.randn(3, 4), y)


def test_packed_discriminator_and_minibatch_discrimination():
    D = MLPDiscriminator(2, (16,), pack=4, minibatch_kernels=5)
    assert D(torch.randn(3, 8)).shape == (3,)


def test_build_net_round_trips_the_spec():
    G = MLPGenerator(4, 3, (8, 8), norm="virtual", ref_size=6, seed=3)
    G2 = build_net(G.spec)
    G2.load_state_dict(G.state_dict())
    z = torch.randn(2, 4)
    torch.testing.assert_close(G(z), G2(z))
    with pytest.raises(InputError, match="unknown network"):
        build_net({"class": "os.system"})


def test_bad_z_shape_is_named():
    with pytest.raises(InputError, match=r"z must have shape \(B, 4\)"):
        MLPGenerator(4, 3, (8,))(torch.randn(3, 5))
