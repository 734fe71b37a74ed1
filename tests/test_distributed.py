"""Two Gloo processes on the CPU train one GAN: their weights must agree after every step."""

import os
import socket

import torch
import torch.multiprocessing as mp

from genrl import distributed
from genrl.data import ring8
from genrl.gan import GANConfig, GANTrainer, MLPDiscriminator, MLPGenerator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank))
    assert distributed.init_distributed("gloo") == (rank, 2)
    try:
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
                    "rng": trainer.rng.get_state(), "batch": trainer.batch_size, "history": trainer.history.rows,
                    "grad": grad_probe.weight.grad}, f"{out}/rank{rank}.pt")  # fmt: skip
    finally:
        distributed.cleanup()


def test_two_processes_keep_identical_weights(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for part in ("G", "D", "ema"):
        assert r0[part].keys() == r1[part].keys()
        for k in r0[part]:
            torch.testing.assert_close(r0[part][k], r1[part][k], rtol=0, atol=0, msg=f"{part}.{k} differs between ranks")
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
