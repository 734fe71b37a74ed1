"""The device paths, on a CUDA GPU (skipped elsewhere): data and models on the device, checkpoints
written on the GPU and read on the CPU, bf16 autocast staying finite. ``make gpu-check`` runs them."""

import numpy as np
import pytest
import torch

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_gan_trains_on_the_gpu_and_its_checkpoint_loads_on_the_cpu(tmp_path):
    from genrl.data import ring8
    from genrl.gan.presets import toy_trainer
    from genrl.gan.trainer import GANTrainer

    trainer = toy_trainer("ring8", "non_saturating", tricks=True, seed=0, device="cuda").accelerate(amp=True)
    X, _ = ring8().sample(5000, seed=0)
    trainer.fit(X, steps=50, progress=False, checkpoint_path=tmp_path / "gan.safetensors")
    assert trainer.sample(100).device.type == "cuda"
    assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in trainer.history)  # bf16 stays finite
    back = GANTrainer.load(tmp_path / "gan.safetensors", device="cpu")
    assert back.step_count == 50 and back.sample(10).device.type == "cpu"
    for (k, a), b in zip(trainer.G.state_dict().items(), back.G.state_dict().values()):
        torch.testing.assert_close(a.cpu(), b, msg=k)
    back.fit(X, steps=60, progress=False)  # a GPU run continues on the CPU


def test_ssl_and_world_models_fit_on_the_gpu_and_load_on_the_cpu(tmp_path):
    from genrl.data import digits_split, labeled_subset
    from genrl.rollout import collect
    from genrl.ssl import SSLGANClassifier
    from genrl.worldmodel import WorldModel, make_world_model

    Xtr, Xte, ytr, _ = digits_split()
    clf = SSLGANClassifier(hidden=(64, 32), generator_hidden=(32,), max_steps=30, random_state=0, device="cuda",
                           checkpoint_path=str(tmp_path / "ssl.safetensors")).fit(Xtr, labeled_subset(ytr, 5))  # fmt: skip
    on_cpu = SSLGANClassifier.load(tmp_path / "ssl.safetensors", device="cpu")
    np.testing.assert_allclose(on_cpu.predict_proba(Xte[:20]), clf.predict_proba(Xte[:20]), atol=1e-5)
    data = collect("genrl/Fork2D-v0", 1000, seed=0)
    for kind in ("gan", "ensemble"):
        model = make_world_model(kind, 2, 2, hidden=(32, 32)).fit(data, steps=30, device="cuda")
        assert model.sample(data.obs[:4], data.act[:4], 3).next_obs.device.type == "cuda"
        model.save(tmp_path / f"{kind}.safetensors")
        back = WorldModel.load(tmp_path / f"{kind}.safetensors", device="cpu")
        assert back.sample(data.obs[:4], data.act[:4], 3).next_obs.shape == (4, 3, 2)
