"""The README's commands and code, run as written but at tiny budgets, so a documented path that
breaks fails the suite. Every line and block is either run or skipped here with its reason; a
budget substitution that no longer matches the README fails too, so the two cannot drift apart."""

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from genrl.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MNIST = ROOT.parent / "shared" / "data" / "mnist"


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


# ------------------------------------------------------------------------------------ python blocks
# (pattern, replacement): each must match the README's code exactly once.
PYTHON_BUDGETS = [
    ("trainer.fit(X, steps=4000)", "trainer.fit(X, steps=30)"),
    (
        'SSLGANClassifier(**PRESETS["digits"], random_state=0, verbose',
        'SSLGANClassifier(**{**PRESETS["digits"], "max_steps": 20}, random_state=0, verbose',
    ),
    (
        'SSLGANClassifier(**PRESETS["digits"], random_state=0)',
        'SSLGANClassifier(**{**PRESETS["digits"], "max_steps": 10}, random_state=0)',
    ),
    ('collect("genrl/Fork2D-v0", 20_000', 'collect("genrl/Fork2D-v0", 500'),
    (".fit(data, steps=5000)", ".fit(data, steps=30)"),
    ('train_expert("CartPole-v1")', 'train_expert("CartPole-v1", 512)'),
    ("episodes=10", "episodes=2"),
    (".learn(50_000)", ".learn(256)"),
    (".learn(20_000)", ".learn(100)"),
    ("GANImputer(random_state=0, verbose=True)", "GANImputer(random_state=0, verbose=True, max_steps=20)"),
]


def python_sections() -> dict[str, str]:
    """The README's Python code by section (``## Heading``): a section's blocks build on each other, sections do not."""
    sections: dict[str, str] = {}
    for part in re.split(r"^## ", README, flags=re.M)[1:]:
        code = "\n".join(blocks(part, "python"))
        if code:
            sections[part.splitlines()[0].strip()] = code
    return sections


def test_readme_budget_substitutions_match_the_readme():
    code = "\n".join(python_sections().values())
    for pattern, _ in PYTHON_BUDGETS:
        assert code.count(pattern) == 1, f"README code no longer contains {pattern!r} exactly once; update this test"


@pytest.mark.parametrize("section", list(python_sections()))
def test_readme_python_blocks_run(section, tmp_path):
    code = python_sections()[section]
    for pattern, replacement in PYTHON_BUDGETS:
        code = code.replace(pattern, replacement)
    script = tmp_path / "readme.py"
    script.write_text("import matplotlib\nmatplotlib.use('Agg')\n" + code)
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]


# ------------------------------------------------------------------------------------ command lines
SKIP = {
    "make quickstart": "the set-up command; CI's clean-clone run executes the README's commands",
    "make test": "the set-up command; CI runs it",
    "python3 -m venv": "the manual set-up; CI installs the same way through make",
    "-m pytest": "runs this very suite",
    "--nproc_per_node 4": "needs 4 GPUs",
    "--nnodes 2": "needs 2 nodes with GPUs",
}
BUDGETS = {  # the training budget appended (or substituted) per command
    "gan": ["--steps", "20"],
    "ssl": ["--steps", "10"],
    "impute": ["--steps", "20"],
    "world-model train": ["--transitions", "300", "--steps", "20"],
    "world-model eval": ["--probes", "10"],
    "mbrl": [
        "--steps",
        "60",
        "--set",
        "start_steps=20 model_every=20 model_fit_steps=20 rollouts=16 updates_per_step=2 eval_every=30 eval_episodes=1",
    ],
    "demos train-expert": ["--steps", "512"],
    "demos collect": ["--episodes", "2"],
    "gail": ["--steps", "256", "--expert-steps", "512"],
    "quickstart": ["--budget", "0.01"],
}


def command_lines() -> list[str]:
    lines = []
    for block in blocks(README, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def _with_budget(argv: list[str], command: str) -> list[str]:
    budget = BUDGETS[command]
    for i in range(0, len(budget), 2):
        flag, value = budget[i], budget[i + 1]
        if flag == "--steps" and "--resume" in argv:
            value = str(int(value) * 3 // 2)  # continue the run above to a larger total
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        elif not (flag == "--expert-steps" and "--demos" in argv):
            argv += [flag, *value.split()]
    return argv


def _minari_dir(tmp: Path) -> Path:
    spec = importlib.util.spec_from_file_location("demos_tests", ROOT / "tests" / "test_demos.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._write_minari(tmp, "Pendulum-v1", episodes=2)


def _reads_and_writes(line: str) -> tuple[set[str], str | None]:
    """The run folders and files a command line reads (demos, experts, the run it resumes or scores) and the one it writes."""
    argv = shlex.split(line)
    value = {flag: argv[i + 1] for i, flag in enumerate(argv[:-1]) if flag.startswith("--")}
    reads = {value[f] for f in ("--expert", "--demos") if f in value}
    if "--resume" in argv or "eval" in argv:
        reads.add(value.get("--out", ""))
    return reads, value.get("--out")


def command_groups() -> dict[str, list[str]]:
    """The README's command lines that run here, in groups: a line joins the group of the line that
    wrote what it reads, so each group runs in order in its own folder and groups run in parallel."""
    groups: dict[str, list[str]] = {}
    owner: dict[str, str] = {}  # written path -> group
    for line in command_lines():
        if any(key in line for key in SKIP):
            continue
        reads, writes = _reads_and_writes(line)
        group = next((g for r in reads for path, g in owner.items() if r == path or r.startswith(path + "/")), None)
        if group is None:
            group = f"{len(groups):02d} {line.split(' --out')[0]}"
            groups[group] = []
        groups[group].append(line)
        if writes:
            owner[writes] = group
    return groups


@pytest.mark.parametrize("group", list(command_groups()))
def test_readme_command_lines_run(group, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative runs/... outputs land in the temporary folder
    for line in command_groups()[group]:
        argv = shlex.split(line)
        env_prefix = [a for a in argv if re.match(r"^[A-Z_]+=", a)]
        argv = argv[len(env_prefix) :]
        if "--data-dir" in argv:
            if not MNIST.is_dir():
                continue  # MNIST is not shipped; the path is the user's
            argv[argv.index("--data-dir") + 1] = str(MNIST)
            argv += ["--labels-per-class", "10"]
        if "--csv" in argv:  # the README's Python block writes with_missing.csv; data.csv is the user's
            csv = tmp_path / argv[argv.index("--csv") + 1]
            columns = ["colour", "size"] if "--categorical" in argv else []
            header = ",".join(["x", "y", *columns])
            rows = [",".join([str(i % 7), "" if i % 5 == 0 else str(i % 7 * 2), *(["red", "big"] if columns else [])])
                    for i in range(60)]  # fmt: skip
            csv.write_text("\n".join([header, *rows]) + "\n")
        if "minari:DIR" in argv:
            argv[argv.index("minari:DIR")] = f"minari:{_minari_dir(tmp_path / 'minari')}"
        if argv[0] == "torchrun":  # two CPU processes, the genrl command after genrl.cli or --no-python genrl
            i = argv.index("genrl.cli" if "genrl.cli" in argv else "genrl") + 1
            argv = argv[:i] + _with_budget(argv[i:], argv[i])
            bin_dir = str(Path(sys.executable).parent)  # where the genrl console script is
            env = {**os.environ, "OMP_NUM_THREADS": "1", "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
            r = subprocess.run([sys.executable, "-m", "torch.distributed.run", *argv[1:]], capture_output=True, text=True,
                               timeout=600, env=env)  # fmt: skip
            # a worker's own error comes before torchrun's summary at the end: keep both
            assert r.returncode == 0, (line, r.stderr[:6000], r.stderr[-2000:])
            continue
        assert argv[0] in ("genrl", ".venv/bin/genrl"), f"a README command this test does not know: {line}"
        args = argv[1:]
        command = " ".join(args[:2]) if args[0] in ("world-model", "demos") else args[0]
        quiet = [] if command in ("demos collect", "world-model eval") else ["--quiet"]  # these do not train
        assert main([*_with_budget(args, command), *quiet]) == 0, line


def test_documented_experiment_commands_parse(monkeypatch):
    """Every ``python experiments/X.py ...`` line in the README and docs names options the script takes."""
    from genrl.cli.parsing import parse_dataclass

    monkeypatch.syspath_prepend(str(ROOT / "experiments"))  # as when a script runs: its folder is on sys.path
    texts = [README] + [p.read_text() for p in (ROOT / "docs").glob("*.md")]
    seen = set()
    for text in texts:
        for script, options in re.findall(r"python (experiments/\w+\.py)([^`\n]*)", text):
            options = shlex.split(re.sub(r"\[|\]|\.\.\.", " ", options))  # quoted JSON stays one argument
            if (script, tuple(options)) in seen:
                continue
            seen.add((script, tuple(options)))
            spec = importlib.util.spec_from_file_location(Path(script).stem, ROOT / script)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # dataclasses resolve their annotations through it
            spec.loader.exec_module(module)
            parse_dataclass(module.Args, None, options)  # exits with argparse's error on an unknown option
    assert seen


def test_cli_reference_page_matches_the_command_line():
    from genrl.cli.reference import reference

    assert (ROOT / "docs" / "cli.md").read_text() == reference(), "run: python -m genrl.cli.reference > docs/cli.md"
