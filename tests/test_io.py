import pytest
import torch

from genrl.errors import CheckpointError
from genrl.io import load_checkpoint, save_checkpoint


def _state():
    weights = {"w": torch.randn(4, 3)}
    return {"kind": "demo", "step": 3, "weights": weights, "opt": {0: {"m": torch.ones(2)}}, "betas": [0.5, 0.9]}


def test_round_trip_keeps_structure_and_int_keys(tmp_path):
    s = _state()
    back = load_checkpoint(save_checkpoint(tmp_path / "c.safetensors", s), kind="demo")
    torch.testing.assert_close(back["weights"]["w"], s["weights"]["w"])
    assert back["opt"][0]["m"].tolist() == [1.0, 1.0] and back["betas"] == [0.5, 0.9] and back["step"] == 3


def test_truncated_checkpoint_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", _state())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(path)


def test_altered_tensor_bytes_are_refused(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", _state())
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)


def test_wrong_kind_and_missing_file(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", _state())
    with pytest.raises(CheckpointError, match="expected 'GANTrainer'"):
        load_checkpoint(path, kind="GANTrainer")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "junk.safetensors")


def test_failed_write_leaves_previous_checkpoint_intact(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", _state())
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save_checkpoint(path, {"kind": "demo", "bad": object()})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]  # no temp files left behind


def test_altered_json_state_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", _state())
    data = path.read_bytes()
    old = b'[\\"step\\", 3]'  # the state JSON sits escaped inside the header JSON
    assert old in data
    path.write_bytes(data.replace(old, old.replace(b"3", b"9")))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)


def test_checkpoints_that_pass_the_checksum_but_do_not_fit_their_reader_raise_checkpoint_error(tmp_path):
    from genrl.gail import RewardNet
    from genrl.gan import GANTrainer
    from genrl.worldmodel import WorldModel

    for kind, loader in (("GANTrainer", GANTrainer.load), ("WorldModel", WorldModel.load), ("RewardNet", RewardNet.load)):
        path = save_checkpoint(tmp_path / f"{kind}.safetensors", {"kind": kind, "spec": {"hidden": "x"}})
        with pytest.raises(CheckpointError, match="does not fit"):
            loader(path)
