"""Every mistake a user can make on the command line gets one line naming it (exit 2), and nothing is
silently ignored or replaced: the table below is the list of bad inputs and their messages."""

import os

import numpy as np
import pytest

from genrl.cli import main
from genrl.rollout import collect


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    collect("CartPole-v1", 50, seed=0).save(d / "good.npz")
    good = (d / "good.npz").read_bytes()
    (d / "trunc.npz").write_bytes(good[: len(good) // 2])
    (d / "garbage.npz").write_bytes(b"\x80\x04garbage" * 10)
    np.save(d / "single.npy", np.zeros(3))
    os.rename(d / "single.npy", d / "single.npz")
    (d / "expert_dir").mkdir()
    (d / "typo.csv").write_text("a,b\n1,2\n3,4\n5,6\n7,8\n9,1\n2,3\n4,5\n6,7\n8,9\n1,2\n1..5,3\n")
    (d / "ragged.csv").write_text("a,b\n1,2\n3\n")
    (d / "empty_col.csv").write_text("a,b\n1,\n2,NA\n")
    (d / "inf.csv").write_text("a,b\n1,2\n2,inf\n")
    (d / "binary.csv").write_bytes(b"\xff\xfe\x00\x01" * 20)
    return d


BAD = [
    (["gan", "--steps", "0"], "--steps must be >= 1, got 0"),
    (["gan", "--steps", "-5"], "--steps must be >= 1, got -5"),
    (["gail", "--env", "CartPole-v1", "--steps", "-5"], "--steps must be >= 1, got -5"),
    (["demos", "train-expert", "--env", "CartPole-v1", "--steps", "-5"], "--steps must be >= 1, got -5"),
    (["mbrl", "--env", "Pendulum-v1", "--steps", "-5"], "--steps must be >= 2, got -5"),
    (["mbrl", "--env", "Pendulum-v1", "--steps", "1"], "--steps must be >= 2, got 1"),
    (["ssl", "--labels-per-class", "-3"], "--labels-per-class must be >= 1, got -3"),
    (["gan", "--loss", "wgan"], "invalid choice: 'wgan'"),
    (["gan", "--data", "digits", "--loss", "hinge"], "--loss and --plain apply to the 2-D mixtures"),
    (["gan", "--data", "digits", "--plain"], "--loss and --plain apply to the 2-D mixtures"),
    (["gan", "--resume"], "holds no checkpoint (checkpoint.safetensors) to continue"),
    (["gail", "--env", "Nope-v0", "--demos", "{d}/good.npz"], "Environment `Nope` doesn't exist"),
    (["world-model", "train", "--env", "CartPol-v1"], "Environment `CartPol` doesn't exist. Did you mean: `CartPole`?"),
    (["mbrl", "--env", "Nope-v9"], "Environment `Nope` doesn't exist"),
    (["demos", "train-expert", "--env", "Nope-v0"], "Environment `Nope` doesn't exist"),
    (["demos", "train-expert", "--env", "CartPole-v1", "--algo", "sac"], "--algo sac needs continuous (Box) actions"),
    (["gail", "--env", "CartPole-v1", "--demos", "{d}/trunc.npz"], "is not a genrl transitions file (truncated or corrupt)"),
    (["gail", "--env", "CartPole-v1", "--demos", "{d}/garbage.npz"], "is not a genrl transitions file (not an .npz archive)"),
    (["gail", "--env", "CartPole-v1", "--demos", "{d}/single.npz"], "is not a genrl transitions file (not an .npz archive)"),
    (["gail", "--env", "CartPole-v1", "--demos", "{d}/missing.npz"], "no transitions file at"),
    (["gail", "--env", "Acrobot-v1", "--demos", "{d}/good.npz"], "recorded in CartPole-v1, not Acrobot-v1"),
    (["demos", "collect", "--expert", "{d}/nope.zip", "--env", "CartPole-v1"], "no expert at '{d}/nope.zip'"),
    (["demos", "collect", "--expert", "{d}/expert_dir", "--env", "CartPole-v1"], "no expert at '{d}/expert_dir/expert.zip'"),
    (["world-model", "eval", "--env", "CartPole-v1"], "holds no model.safetensors"),
    (["impute", "--csv", "{d}/nope.csv"], "cannot read it as a text CSV file"),
    (["impute", "--csv", "{d}/binary.csv"], "cannot read it as a text CSV file"),
    (["impute", "--csv", "{d}/typo.csv"], "column 'a' is numbers but for a few cells, e.g. '1..5' on line 12"),
    (["impute", "--csv", "{d}/ragged.csv"], "line 3 has 1 cells, the header 2"),
    (["impute", "--csv", "{d}/empty_col.csv"], "column 'b' has no observed entries"),
    (["impute", "--csv", "{d}/inf.csv"], "column 'b' holds 'inf' on line 3; only finite numbers"),
    (["impute", "--csv", "{d}/typo.csv", "--categorical", "c"], "--categorical names column 'c'"),
    (["impute", "--csv", "{d}/typo.csv", "--imputations", "0"], "--imputations must be >= 1, got 0"),
    (["mbrl", "--env", "CartPole-v1"], "needs a continuous (Box) action space; CartPole-v1 has Discrete(2)"),
    (["mbrl", "--env", "Pendulum-v1", "--set", "tau"], "unknown setting 'tau': write field=value"),
    (["gan", "--out", "{d}/good.npz/run"], "--out {d}/good.npz/run: cannot create that folder (Not a directory)"),
    (["gail", "--env", "CartPole-v1", "--out", "{d}/good.npz/run"], "cannot create that folder (Not a directory)"),
]


@pytest.mark.parametrize("argv, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_gets_one_line_naming_it(argv, message, files, tmp_path, capsys):
    argv = [a.format(d=files) for a in argv]
    out = str(files / "demos.npz") if argv[:2] == ["demos", "collect"] else str(tmp_path / "out")
    try:
        quiet = [] if "collect" in argv or "eval" in argv else ["--quiet"]  # neither trains: no progress bar to silence
        code = main([*argv, *([] if "--out" in argv else ["--out", out]), *quiet])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and message.format(d=files) in err[-1], err
    assert len(err) == 1 or err[0].startswith("usage:"), err  # one line, or argparse's usage and one line


def test_runs_are_never_replaced_or_continued_with_other_options(tmp_path, capsys):
    out = str(tmp_path / "ring")
    assert main(["gan", "--data", "ring8", "--steps", "20", "--out", out, "--quiet"]) == 0
    # a rerun without --resume would replace the checkpoint
    assert main(["gan", "--data", "ring8", "--steps", "40", "--out", out, "--quiet"]) == 2
    assert "already holds checkpoint.safetensors" in capsys.readouterr().err
    # --resume with other options that change the run is refused, naming them
    assert main(["gan", "--data", "grid25", "--loss", "hinge", "--steps", "40", "--out", out, "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "--data ring8 (now grid25)" in err and "--loss non_saturating (now hinge)" in err
    # options that only change how it runs may differ; --overwrite starts afresh
    assert main(["gan", "--data", "ring8", "--steps", "30", "--out", out, "--quiet", "--resume", "--device", "cpu"]) == 0
    assert main(["gan", "--data", "grid25", "--steps", "10", "--out", out, "--quiet", "--overwrite"]) == 0


def test_world_model_eval_refuses_another_env_and_keeps_train_metrics(tmp_path, capsys):
    out = str(tmp_path / "wm")
    train = ["world-model", "train", "--model", "mlp", "--transitions", "300", "--steps", "20", "--out", out, "--quiet"]
    assert main([*train, "--env", "genrl/Fork2D-v0"]) == 0
    # GustyCart has other dimensions; a same-dimension env is refused by name too (the job records its env)
    assert main(["world-model", "eval", "--env", "genrl/GustyCart-v0", "--out", out]) == 2
    assert "was trained on genrl/Fork2D-v0, not genrl/GustyCart-v0" in capsys.readouterr().err


def test_overwrite_removes_the_earlier_runs_checkpoint_first(tmp_path):
    from genrl.cli.jobs import GanJob
    from genrl.cli.rundir import claim

    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.safetensors").write_bytes(b"old run")
    (out / "metrics.json").write_text("{}")
    job = GanJob(out=out, data="grid25", overwrite=True)
    assert claim(job, ("checkpoint.safetensors", "metrics.json"), "checkpoint.safetensors") is False
    # a new run killed before its first checkpoint cannot be --resume'd onto the old run's weights
    assert not (out / "checkpoint.safetensors").exists() and not (out / "metrics.json").exists()
    assert '"data": "grid25"' in (out / "job.json").read_text()


def _sweep() -> list[tuple[str, list[str]]]:
    """Every command with each path option and env option set to something wrong, from the jobs'
    own fields (a new command or option joins the sweep by itself); the other required options valid."""
    import dataclasses
    import typing

    from genrl.cli.jobs import COMMANDS

    required = {"impute": ["--csv", "{d}/typo.csv"], "demos collect": ["--expert", "{d}/expert_dir", "--env", "CartPole-v1"],
                "gail": ["--env", "CartPole-v1", "--demos", "{d}/good.npz"], "world-model train": ["--env", "Pendulum-v1"],
                "world-model eval": ["--env", "Pendulum-v1"], "mbrl": ["--env", "Pendulum-v1"],
                "demos train-expert": ["--env", "CartPole-v1"]}  # fmt: skip
    paths = {"out": ["{d}/good.npz/run", "/proc/genrl-run", "{d}/good.npz"],
             "other": ["{d}/missing", "{d}", "{d}/garbage.npz", "{d}/good.npz/inner"]}  # fmt: skip
    envs = ["Nope-v0", "not an id!", "FrozenLake-v1", "Blackjack-v1", "genrl/Nope-v0"]
    cases = []
    for command, (cls, _) in COMMANDS.items():
        hints = typing.get_type_hints(cls)
        base = [*command.split(), *required.get(command, [])]
        for f in dataclasses.fields(cls):
            flag = "--" + f.name.replace("_", "-")
            if "Path" in str(hints[f.name]):
                values = paths["out" if f.name == "out" else "other"]
            elif f.name == "env":
                values = envs
            elif f.name == "demos":
                values = ["minari:nope/none-v0", "{d}/missing.npz", "{d}"]
            else:
                continue
            for value in values:
                argv = [a for i, a in enumerate(base) if flag not in base[max(0, i - 1) : i + 1]]  # this option replaced
                cases.append((command, [*argv, flag, value]))
    return cases


SWEEP = _sweep()


@pytest.mark.parametrize("command, argv", SWEEP, ids=[" ".join(a) for _, a in SWEEP])
def test_no_wrong_path_or_env_ends_in_a_traceback(command, argv, files, tmp_path, capsys):
    argv = [a.format(d=files) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    if command == "ssl" and "--data-dir" in argv:
        argv += ["--dataset", "mnist"]
    try:
        code = main([*argv, "--quiet"] if command not in ("demos collect", "world-model eval") else argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "error:" in err[-1] and not any("Traceback" in line for line in err), err
    assert len(err) == 1 or err[0].startswith("usage:"), err  # one line, or argparse's usage and one line
