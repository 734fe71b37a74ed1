import json
import subprocess
import sys

import numpy as np
import pytest

from genrl.cli import main


def test_gan_command_writes_metrics_and_plots(tmp_path):
    out = tmp_path / "ring"
    assert main(["gan", "--data", "ring8", "--steps", "60", "--out", str(out), "--quiet", "--checkpoint-every", "30"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"modes", "hq_fraction", "reverse_kl", "energy_distance", "seconds"} <= metrics.keys()
    assert metrics["steps"] == 60
    assert (out / "samples.png").stat().st_size > 0 and (out / "losses.png").stat().st_size > 0
    # --resume continues to the new total instead of starting over.
    assert main(["gan", "--data", "ring8", "--steps", "90", "--out", str(out), "--quiet", "--resume"]) == 0
    assert json.loads((out / "metrics.json").read_text())["steps"] == 90


def test_bad_option_gives_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "genrl.cli", "gan", "--loss", "wgan", "--out", str(tmp_path)],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and "invalid choice: 'wgan'" in r.stderr


def test_world_model_train_eval_and_mbrl_commands(tmp_path):
    out = tmp_path / "wm"
    common = ["--env", "genrl/Fork2D-v0", "--out", str(out), "--quiet"]
    assert main(["world-model", "train", "--model", "ensemble", "--transitions", "1000", "--steps", "50", *common]) == 0
    assert main(["world-model", "eval", "--probes", "10", *common[:-1]]) == 0  # eval takes no --quiet
    m = json.loads((out / "eval_metrics.json").read_text())
    assert {"energy_distance", "energy_distance_floor", "rollout_error", "energy_score"} <= m.keys()
    assert json.loads((out / "metrics.json").read_text())["steps"] == 50  # train's own metrics are kept
    assert (out / "next_state_samples.png").exists()
    mb = tmp_path / "mbrl"
    assert main(["mbrl", "--env", "genrl/Fork2D-v0", "--model", "mlp", "--steps", "50", "--out", str(mb), "--quiet"]) == 0
    assert json.loads((mb / "metrics.json").read_text())["env_steps"] == 50 and (mb / "return_vs_steps.png").exists()
    assert main(["world-model", "eval", "--env", "genrl/KickedPendulum-v0", "--out", str(out)]) == 2


def test_demos_and_gail_commands(tmp_path):
    from stable_baselines3 import PPO

    expert_dir = tmp_path / "expert"
    expert_dir.mkdir()
    PPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu").save(expert_dir / "expert.zip")
    (expert_dir / "metrics.json").write_text(json.dumps({"env": "CartPole-v1"}))
    demos = tmp_path / "demos.npz"
    assert main(["demos", "collect", "--expert", str(expert_dir / "expert.zip"), "--episodes", "2", "--out", str(demos)]) == 0
    out = tmp_path / "gail"
    assert main(["gail", "--env", "CartPole-v1", "--demos", str(demos), "--steps", "256", "--out", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert {"return_mean", "normalized_score", "env_steps", "seconds", "expert_return"} <= m.keys()
    assert (out / "policy.zip").exists() and (out / "reward.safetensors").exists() and (out / "learning_curve.png").exists()
    assert main(["gail", "--env", "Pendulum-v1", "--demos", str(demos), "--steps", "256", "--out", str(out), "--quiet"]) == 2
    assert main(["gail", "--env", "CartPole-v1", "--demos", str(demos), "--disc-source", "replay", "--steps", "256",
                 "--out", str(tmp_path / "ppo-replay"), "--quiet"]) == 2  # PPO has no replay buffer  # fmt: skip


WM_TRAIN = ["world-model", "train", "--env", "genrl/Fork2D-v0", "--transitions", "300", "--steps", "20"]


@pytest.mark.parametrize("argv", [["ssl", "--steps", "20"], WM_TRAIN])
def test_training_commands_write_tensorboard_scalars(tmp_path, argv):
    out = tmp_path / "run"
    main([*argv, "--out", str(out), "--quiet", "--tensorboard"])
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))


def test_gail_with_sac_saves_a_loadable_policy(tmp_path):
    """The README's Pendulum example: SB3 pickles a SAC learner's buffer options into policy.zip."""
    from stable_baselines3 import SAC

    from genrl.gail.demos import record

    demos = tmp_path / "demos.npz"
    record(SAC("MlpPolicy", "Pendulum-v1", seed=0, device="cpu"), "Pendulum-v1", 2, seed=0).save(demos)
    out = tmp_path / "gail"
    assert main(["gail", "--env", "Pendulum-v1", "--algo", "sac", "--demos", str(demos), "--steps", "600", "--out", str(out),
                 "--quiet", "--disc-source", "replay", "--absorbing-scale", "10"]) == 0  # fmt: skip
    assert json.loads((out / "metrics.json").read_text())["algo"] == "sac"
    from genrl.gail import GAIL, RewardNet

    assert RewardNet.load(out / "reward.safetensors").absorbing_scale == 10.0
    assert GAIL.load(out / "checkpoint.safetensors", device="cpu").disc_source == "replay"
    assert SAC.load(out / "policy.zip", device="cpu").predict([0.0, 1.0, 0.0])[0].shape == (1,)
    assert (out / "reward.safetensors").exists() and (out / "learning_curve.png").exists()


def test_help_and_argument_errors_need_no_heavy_import():
    """The parser is built from the job dataclasses; registries load only when their choices are needed."""
    code = (
        "import sys; from genrl.cli import build_parser; p = build_parser(); p.format_help(); "
        "p.parse_args(['gan', '--out', 'x']); "
        "print(sorted(m for m in ('torch', 'stable_baselines3') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
    r = subprocess.run([sys.executable, "-m", "genrl", "gan", "--steps", "-5", "--out", "x"], capture_output=True, text=True)
    assert r.returncode == 2 and "--steps must be >= 1, got -5" in r.stderr
    r = subprocess.run([sys.executable, "-m", "genrl", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("genrl ")


def test_every_job_option_has_help_and_every_command_a_runner():
    import dataclasses
    import importlib

    from genrl.cli.jobs import COMMANDS
    from genrl.cli.parsing import field_docs

    for name, (cls, target) in COMMANDS.items():
        docs = field_docs(cls)
        assert all(docs.get(f.name) for f in dataclasses.fields(cls)), name
        module, _, func = target.partition(":")
        assert callable(getattr(importlib.import_module(module), func)), target


def test_impute_command_fills_a_csv_and_resumes(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.standard_normal(200)
    y_cells = ["" if rng.random() < 0.2 else f"{2 * a:.4f}" for a in z]
    kinds = ["NA" if rng.random() < 0.2 else "pos" if a > 0 else "neg" for a in z]
    lines = ["x,y,kind"] + [f"{a:.4f},{y},{k}" for a, y, k in zip(z, y_cells, kinds)]
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n")
    argv = [
        "impute",
        "--csv",
        str(tmp_path / "in.csv"),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        "--draws",
        "3",
        "--steps",
        "300",
    ]
    assert main(argv) == 0
    rows = [line.split(",") for line in (tmp_path / "out" / "imputed.csv").read_text().splitlines()]
    assert rows[0] == ["x", "y", "kind"] and len(rows) == 201
    assert all(r[1] != "" and r[2] in ("pos", "neg") for r in rows[1:])
    assert all(a == b for r, line in zip(rows[1:], lines[1:]) for a, b in zip(r, line.split(",")) if b not in ("", "NA"))
    y = np.array([float(r[1]) for r in rows[1:]])
    assert np.abs(y - 2 * z).mean() < 0.5  # the imputed y follow x
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["categorical"] == ["kind"] and metrics["steps"] == 300
    draws = [line.split(",") for line in (tmp_path / "out" / "draws.csv").read_text().splitlines()]
    assert draws[0] == ["imputation", "x", "y", "kind"] and len(draws) == 1 + 3 * 200
    assert {r[0] for r in draws[1:]} == {"1", "2", "3"} and all(r[2] != "" for r in draws[1:])
    assert main([*argv[:-1], "400", "--resume"]) == 0
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["steps"] == 400


@pytest.mark.parametrize("algo", ["sac", "td3"])
def test_demos_collect_loads_off_policy_experts(tmp_path, algo):
    from stable_baselines3 import SAC, TD3

    expert = tmp_path / "expert.zip"
    {"sac": SAC, "td3": TD3}[algo]("MlpPolicy", "Pendulum-v1", seed=0, device="cpu").save(expert)
    demos = tmp_path / "demos.npz"
    argv = ["demos", "collect", "--expert", str(expert), "--env", "Pendulum-v1", "--episodes", "1", "--out", str(demos)]
    assert main(argv) == 0 and demos.exists()


def test_parse_variant_reads_bools_ints_floats_and_tuples():
    from genrl.cli.parsing import parse_variant
    from genrl.worldmodel.dyna import DynaConfig

    name, cfg = parse_variant("ln:critic_layer_norm=true,tau=0.01,updates_per_step=5", DynaConfig())
    assert (name, cfg.critic_layer_norm, cfg.tau, cfg.updates_per_step) == ("ln", True, 0.01, 5)
    with pytest.raises(SystemExit, match="true or false"):
        parse_variant("x:critic_layer_norm=1", DynaConfig())


def test_parse_json_variant_reads_a_name_and_keyword_options():
    from genrl.cli.parsing import parse_json_variant

    assert parse_json_variant("") == ("", {})
    name, options = parse_json_variant('dac:{"reward": "airl", "disc_updates": 1000}')
    assert (name, options) == ("dac", {"reward": "airl", "disc_updates": 1000})
    with pytest.raises(SystemExit, match="JSON object"):
        parse_json_variant("x:{reward: airl}")
