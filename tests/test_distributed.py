"""Two Gloo processes on the CPU train one GAN (or SSL classifier, or world model): their weights must agree."""

from collections.abc import Callable

import pytest
import torch
import torch.multiprocessing as mp
from sklearn.datasets import load_digits

from genrl import distributed
from genrl.data import labeled_subset, ring8
from genrl.gan import GANConfig, GANTrainer, MLPDiscriminator, MLPGenerator
from genrl.ssl import SSLGANClassifier


def _worker(rank: int, job: Callable[[int, str], None], port: int, out: str) -> None:
    torch.set_num_threads(1)
    assert distributed.init_local(rank, 2, port, "gloo") == (rank, 2)
    try:
        job(rank, out)
    finally:
        distributed.cleanup()


def _spawn(job: Callable[[int, str], None], out) -> tuple[dict, dict]:
    """Run ``job`` in 2 processes; return what each rank saved."""
    mp.spawn(_worker, args=(job, distributed.free_port(), str(out)), nprocs=2)
    return tuple(torch.load(out / f"rank{r}.pt") for r in (0, 1))


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], name: str) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=f"{name}.{k} differs between ranks")


def _gan_job(rank: int, out: str) -> None:
    # Seeded per rank so that only the broadcast from rank 0 can make the initial weights agree.
    torch.manual_seed(rank)
    G = MLPGenerator(4, 2, (16, 16), norm="batch")  # batch norm: running statistics are buffers
    D = MLPDiscriminator(2, (16, 16))
    cfg = GANConfig(batch_size=32, r1=1.0, ema_decay=0.9, lr_g=1e-2, lr_d=1e-2)  # R1: double backward
    trainer = GANTrainer(G, D, cfg, device="cpu", seed=0)
    init = {k: v.clone() for k, v in G.state_dict().items()}
    X, _ = ring8().sample(2000, seed=0)
    trainer.fit(X, steps=12, log_every=5, progress=False, checkpoint_path=f"{out}/ckpt.safetensors")
    grad_probe = torch.nn.Linear(2, 1)
    grad_probe.weight.grad = torch.full((1, 2), float(rank + 1))
    distributed.average_gradients(grad_probe)
    torch.save({"init": init, "G": G.state_dict(), "D": D.state_dict(), "ema": trainer.ema.module.state_dict(),
                "rng": trainer.rng.get_state(), "batch": trainer.batch_size, "history": trainer.history,
                "grad": grad_probe.weight.grad}, f"{out}/rank{rank}.pt")  # fmt: skip


@pytest.mark.slow
def test_two_processes_train_one_gan(tmp_path):
    r0, r1 = _spawn(_gan_job, tmp_path)
    for part in ("G", "D", "ema"):
        _assert_same(r0[part], r1[part], part)
    assert any(not torch.equal(r0["init"][k], r0["G"][k]) for k in r0["init"])  # it trained
    assert r0["batch"] == r1["batch"] == 16  # the global batch of 32 is split between the ranks
    assert not torch.equal(r0["rng"], r1["rng"])  # each rank drew its own minibatches and noise
    losses = [[(r["step"], r["d_loss"], r["g_loss"]) for r in rank["history"]] for rank in (r0, r1)]
    assert losses[0] == losses[1] and [s for s, _, _ in losses[0]] == [5, 10, 12]  # logged: means over ranks
    torch.testing.assert_close(r0["grad"], torch.full((1, 2), 1.5))
    # Rank 0 wrote the checkpoint; it holds the shared weights.
    resumed = GANTrainer.load(tmp_path / "ckpt.safetensors", device="cpu")
    for k, v in resumed.G.state_dict().items():
        torch.testing.assert_close(v, r0["G"][k])


def _ssl_job(rank: int, out: str) -> None:
    X, y = load_digits(return_X_y=True)
    clf = SSLGANClassifier(hidden=(32, 32), generator_hidden=(32,), latent_dim=8, batch_size=32, max_steps=15, log_every=5,
                           random_state=0).fit(X[:400], labeled_subset(y[:400], 3, seed=0))  # fmt: skip
    proba = torch.from_numpy(clf.predict_proba(X[400:450]))
    torch.save({"D": clf.D_.state_dict(), "G": clf.G_.state_dict(), "avg": clf.avg_.module.state_dict(), "proba": proba,
                "history": clf.history_}, f"{out}/rank{rank}.pt")  # fmt: skip


@pytest.mark.slow
def test_two_processes_fit_one_ssl_classifier(tmp_path):
    r0, r1 = _spawn(_ssl_job, tmp_path)
    for part in ("D", "G", "avg"):
        _assert_same(r0[part], r1[part], part)
    assert torch.equal(r0["proba"], r1["proba"])
    assert [r["step"] for r in r0["history"]] == [r["step"] for r in r1["history"]] == [5, 10, 15]


def _world_model_job(rank: int, out: str) -> None:
    from genrl.rollout import collect
    from genrl.worldmodel import make_world_model

    data = collect("genrl/Fork2D-v0", 400, seed=0)  # the same logged data on every rank
    models = {}
    for kind in ("gan", "ensemble"):
        # Seeded per rank so that only the broadcast from rank 0 can make the weights agree.
        model = make_world_model(kind, 2, 2, hidden=(16, 16), seed=rank)
        model.fit(data, steps=12, batch_size=32, device="cpu", log_every=5, checkpoint_path=f"{out}/{kind}.safetensors")
        models[kind] = {"weights": model.state_dict(), "history": model.history}
    torch.save(models, f"{out}/rank{rank}.pt")


@pytest.mark.slow
def test_two_processes_fit_one_world_model(tmp_path):
    from genrl.worldmodel import WorldModel

    r0, r1 = _spawn(_world_model_job, tmp_path)
    for kind in ("gan", "ensemble"):
        _assert_same(r0[kind]["weights"], r1[kind]["weights"], kind)
        assert [r["step"] for r in r0[kind]["history"]] == [r["step"] for r in r1[kind]["history"]] == [5, 10, 12]
        saved = WorldModel.load(tmp_path / f"{kind}.safetensors", device="cpu")  # written by rank 0
        _assert_same(saved.state_dict(), r0[kind]["weights"], kind)


def _stop_job(rank: int, out: str) -> None:
    torch.manual_seed(0)
    trainer = GANTrainer(MLPGenerator(4, 2, (16,)), MLPDiscriminator(2, (16,)), GANConfig(batch_size=32), device="cpu")
    X, _ = ring8().sample(2000, seed=0)
    # only rank 0 asks to stop (an "evaluate on rank 0" callback): every rank must stop with it
    trainer.fit(X, steps=50, log_every=5, progress=False, callback=lambda t, row: not (rank == 0 and row["step"] >= 10))
    torch.save({"step": trainer.step_count}, f"{out}/rank{rank}.pt")


@pytest.mark.slow
def test_a_stop_on_one_process_stops_them_all(tmp_path):
    r0, r1 = _spawn(_stop_job, tmp_path)
    assert r0["step"] == r1["step"] == 10
