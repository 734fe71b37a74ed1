import torch

from genrl.gan.layers import MinibatchDiscrimination, VirtualBatchNorm, pack
from genrl.gan.nets import MLPGenerator


def test_vbn_output_does_not_depend_on_the_rest_of_the_batch():
    torch.manual_seed(0)
    vbn = VirtualBatchNorm(5, ref_size=16)
    ref = torch.randn(16, 5)
    a, b = torch.randn(8, 5), torch.randn(8, 5) * 10
    x = torch.randn(1, 5)
    out1 = vbn(torch.cat([ref, x, a]))[16]
    out2 = vbn(torch.cat([ref, x, b]))[16]
    torch.testing.assert_close(out1, out2)


def test_vbn_generator_sample_independent_of_batch_mates():
    torch.manual_seed(0)
    G = MLPGenerator(4, 2, (16, 16), norm="virtual", ref_size=8).train()
    z = torch.randn(1, 4)
    with torch.no_grad():
        a = G(torch.cat([z, torch.randn(5, 4)]))[0]
        b = G(torch.cat([z, 3 * torch.randn(9, 4)]))[0]
    torch.testing.assert_close(a, b)


def test_vbn_normalises_like_batchnorm_on_the_reference_batch():
    vbn = VirtualBatchNorm(3, ref_size=256)
    ref = torch.randn(256, 3) * 4 + 2
    out = vbn(ref)
    assert out.mean(0).abs().max() < 0.05 and (out.std(0) - 1).abs().max() < 0.05


def test_minibatch_discrimination_output_depends_on_the_batch():
    torch.manual_seed(0)
    mbd = MinibatchDiscrimination(4, n_kernels=6, kernel_dim=3)
    x = torch.randn(1, 4)
    out1 = mbd(torch.cat([x, torch.randn(4, 4)]))[0]
    out2 = mbd(torch.cat([x, x.repeat(4, 1)]))[0]  # a collapsed batch
    assert out1.shape == (4 + 6,)
    torch.testing.assert_close(out1[:4], out2[:4])  # features pass through
    assert (out2[4:] - out1[4:]).abs().min() > 0.1  # the similarity statistics see the batch
    torch.testing.assert_close(out2[4:], torch.full((6,), 4.0))  # 4 identical mates: exp(0) each


def test_pack_groups_samples():
    x = torch.arange(24.0).view(12, 2)
    p = pack(x, 4)
    assert p.shape == (3, 8)
    torch.testing.assert_close(p[1], x[4:8].flatten())
    img = torch.randn(8, 1, 8, 8)
    assert pack(img, 2).shape == (4, 2, 8, 8)
