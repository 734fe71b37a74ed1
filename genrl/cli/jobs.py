"""Every ``genrl`` subcommand's options, one dataclass each.

The command line is generated from these classes (:mod:`genrl.cli.parsing`): a field is an
option, its docstring the option's help, its type the parser, registry-backed choices are read
from the registries when first needed. ``quickstart`` composes the same objects, so the type
checker sees every job it runs. This module imports nothing heavy: ``genrl --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Device = Literal["auto", "cpu", "cuda"]


def choices(registry: str) -> dict[str, str]:
    """Field metadata: the valid values are the names in ``registry`` (``"module:attribute"``)."""
    return {"choices": registry}


def at_least(minimum: int | float) -> dict[str, int | float]:
    """Field metadata: the value must be ``>= minimum``."""
    return {"min": minimum}


@dataclass(kw_only=True)
class Run:
    """Options every job takes."""

    out: Path
    """output folder (metrics.json, plots, checkpoint)"""
    seed: int = 0
    """seed for weights, noise, data order and envs"""
    device: Device = "auto"
    """auto picks CUDA when present"""
    threads: int = field(default=1, metadata=at_least(0))
    """torch CPU threads; 1 measured fastest for genrl's job sizes whenever anything else runs
    (2.3-3.5x torch's default beside one busy process, 0.66-0.75x of it on an idle machine; see
    experiments/threads.py); 0: torch's default (one per core)"""
    overwrite: bool = False
    """replace what an earlier run left in OUT (without it, such a run is refused)"""


@dataclass(kw_only=True)
class Job(Run):
    """Options every training job takes."""

    quiet: bool = False
    """no progress bar"""
    tensorboard: bool = False
    """write TensorBoard scalars to OUT/tensorboard"""


@dataclass(kw_only=True)
class Resumable(Job):
    """A job that checkpoints and can continue."""

    checkpoint_every: int = field(default=1000, metadata=at_least(0))
    """steps between checkpoints (0: only at the end)"""
    resume: bool = False
    """continue from the checkpoint in OUT: loads it, then trains until the total --steps"""


@dataclass(kw_only=True)
class GanJob(Resumable):
    """Train a GAN (2-D mixtures or conditional digits) and score it.

    Several processes (CPU workers or one per GPU) train one GAN when launched with torchrun; rank 0
    writes everything: ``torchrun --nproc_per_node 2 -m genrl.cli gan --data ring8 --out runs/ring8_ddp``
    """

    data: str = field(default="ring8", metadata=choices("genrl.data:GAN_DATA"))
    """a 2-D mixture (PacGAN protocol) or the embedded 8x8 digits (label-conditioned DCGAN)"""
    loss: str = field(default="non_saturating", metadata=choices("genrl.gan.losses:LOSSES"))
    """generator/discriminator cost pair (2-D data)"""
    plain: bool = False
    """2-D data: the bare game (no R1, lr decay or rescaling)"""
    steps: int | None = field(default=None, metadata=at_least(1))
    """total generator steps (default: the data's recipe)"""
    amp: bool = False
    """bf16 autocast of the nets' forward passes (GPUs, CPUs with AVX-512 BF16 or AMX; default fp32)"""
    compile: bool = False
    """torch.compile the generator, and the discriminator unless R1 / gradient penalty is on"""


@dataclass(kw_only=True)
class SSLJob(Resumable):
    """Semi-supervised K+1 GAN classifier on few labels (digits embedded, or MNIST)."""

    dataset: Literal["digits", "mnist"] = "digits"
    """digits: scikit-learn's 8x8 digits (embedded); mnist: needs --data-dir"""
    data_dir: Path | None = None
    """folder with the four MNIST idx files (plain or .gz)"""
    labels_per_class: int = field(default=10, metadata=at_least(1))
    """labeled training rows per class; the rest are unlabeled"""
    steps: int | None = field(default=None, metadata=at_least(1))
    """training steps (default: the dataset preset)"""
    amp: bool = False
    """bf16 autocast of the nets' forward passes (GPUs, CPUs with AVX-512 BF16 or AMX; default fp32)"""


@dataclass(kw_only=True)
class ImputeJob(Resumable):
    """Fill the missing cells of a CSV file with a GAN imputer (GAIN).

    Writes OUT/imputed.csv (known cells copied unchanged), OUT/metrics.json, OUT/training.png and,
    with --draws N, OUT/draws.csv (N draws from the imputer's conditional distribution).
    """

    csv: Path
    """CSV file with a header row; empty cells and NA, N/A, NaN, NULL, None are missing"""
    categorical: list[str] = field(default_factory=list)
    """columns to treat as categories (columns that are not numbers are categorical anyway)"""
    steps: int | None = field(default=None, metadata=at_least(1))
    """training steps (default: GANImputer's)"""
    imputations: int = field(default=10, metadata=at_least(1))
    """draws per row, averaged (numbers) or voted by mean probability (categories)"""
    draws: int = field(default=0, metadata=at_least(0))
    """also write OUT/draws.csv: this many completed copies (multiple imputation), one long table with an imputation column"""


@dataclass(kw_only=True)
class WorldModelTrainJob(Resumable):
    """Collect random-policy transitions and fit a world model."""

    env: str
    """gymnasium id, e.g. genrl/Fork2D-v0 or Pendulum-v1"""
    model: str = field(default="gan", metadata=choices("genrl.worldmodel.models:WorldModel.registry"))
    """world model kind"""
    transitions: int = field(default=20_000, metadata=at_least(2))
    """real transitions to collect"""
    steps: int = field(default=5000, metadata=at_least(1))
    """model training steps"""
    hidden: list[int] = field(default_factory=lambda: [200, 200, 200], metadata=at_least(1))
    """widths of every net's layers"""


@dataclass(kw_only=True)
class WorldModelEvalJob(Run):
    """Score a trained world model (OUT must hold model.safetensors); writes OUT/eval_metrics.json."""

    env: str
    """gymnasium id the model was trained on"""
    probes: int = field(default=200, metadata=at_least(1))
    """held-out (s, a) probes for the one-step energy distance"""


@dataclass(kw_only=True)
class MBRLJob(Resumable):
    """Dyna/MBPO: SAC on world-model rollouts; return vs. real env steps.

    Settings start from DynaConfig's defaults and the env's entry in genrl.worldmodel.presets
    (MBPO's for the MuJoCo envs); --set changes any of them. Writes OUT/metrics.json (the curve),
    OUT/return_vs_steps.png, OUT/agent.zip (an SB3 SAC) and OUT/model.safetensors.
    """

    env: str
    """gymnasium id with flat Box observations and a Box action space"""
    model: str = field(default="gan", metadata=choices("genrl.worldmodel.models:WorldModel.registry"))
    """world model kind"""
    steps: int = field(default=1000, metadata=at_least(2))
    """real env steps in all"""
    set: list[str] = field(default_factory=list)
    """DynaConfig changes over the preset, e.g. updates_per_step=20 rollout_schedule=20000x100000x1x15"""


@dataclass(kw_only=True)
class TrainExpertJob(Job):
    """Train an SB3 expert with zoo-style settings (rl-zoo3's for the MuJoCo envs)."""

    env: str
    """gymnasium id"""
    algo: Literal["ppo", "sac", "td3"] | None = None
    """the SB3 algorithm (default: the env's entry in genrl.gail.demos.EXPERTS, else PPO for discrete
    actions and SAC otherwise); sac and td3 need continuous actions"""
    steps: int | None = field(default=None, metadata=at_least(1))
    """env steps (default: a per-env budget)"""


@dataclass(kw_only=True)
class CollectDemosJob:
    """Record expert episodes to a demonstrations file (.npz)."""

    expert: Path
    """an SB3 .zip (from demos train-expert)"""
    out: Path
    """demonstrations file to write"""
    env: str | None = None
    """env id (default: read from metrics.json beside the expert)"""
    episodes: int = field(default=10, metadata=at_least(1))
    """episodes to record"""
    seed: int = 0
    """seed of the first episode's reset (episode k uses seed + k)"""
    overwrite: bool = False
    """replace an existing file at OUT"""


@dataclass(kw_only=True)
class GailJob(Resumable):
    """GAIL: imitate demonstrations with an SB3 learner."""

    env: str
    """gymnasium id"""
    demos: str | None = None
    """demonstrations: a .npz from `demos collect`, or minari:ID|DIR (default: train an expert with
    `demos train-expert` settings and record --episodes into OUT)"""
    download: bool = False
    """fetch a --demos minari:ID dataset that is not on disk (needs network and genrl-gan[minari])"""
    episodes: int = field(default=10, metadata=at_least(1))
    """expert episodes to record when --demos is not given"""
    expert_steps: int | None = field(default=None, metadata=at_least(1))
    """env steps to train the expert when --demos is not given (default: a per-env budget)"""
    algo: Literal["ppo", "sac", "td3"] = "ppo"
    """the learner: PPO (vectorised envs), SAC or TD3 (relabelling replay buffer; Box actions)"""
    steps: int = field(default=50_000, metadata=at_least(1))
    """learner env steps"""
    reward: str = field(default="gail", metadata=choices("genrl.gail.reward:REWARDS"))
    """how the discriminator's logit becomes the reward"""
    bc_epochs: int = field(default=0, metadata=at_least(0))
    """behaviour-cloning warm start, epochs on the demos"""
    subproc: bool = False
    """step the PPO env copies in worker processes"""
    next_obs: bool = False
    """the discriminator judges (s, a, s') instead of (s, a)"""
    absorbing: Literal["auto", "on", "off"] = "auto"
    """DAC absorbing states for terminated episodes (auto: on when the demonstrations' episodes terminate)"""
    disc_source: Literal["preset", "recent", "replay"] = "preset"
    """the discriminator's policy rows: the recent transitions, or the replay buffer (sac, td3) as DAC
    does (preset: the env's entry in genrl.gail.GAIL_PRESETS, else recent)"""
    absorbing_scale: float | None = None
    """the absorbing flag's value in the discriminator's input (default: the env's preset, else 1)"""
    checkpoint_every: int = field(default=10_000, metadata=at_least(0))
    """env steps between checkpoints (0: only at the end)"""


@dataclass(kw_only=True)
class QuickstartJob(Job):
    """Run every job on embedded defaults and write OUT/report.html and OUT/metrics.json."""

    out: Path = Path("runs/quickstart")
    """output folder: report.html, metrics.json and one folder per job"""
    budget: float = field(default=1.0, metadata=at_least(0.001))
    """fraction of every job's training budget: below 1 for a quick look at the whole pipeline (the
    report's figures are only meaningful at 1)"""
    jobs: int = field(default=0, metadata=at_least(0))
    """jobs run at once, each in its own worker process with --threads threads (0: one per CPU core;
    1: one after another in this process)"""


COMMANDS: dict[str, tuple[type, str]] = {
    "gan": (GanJob, "genrl.cli.gan:run"),
    "ssl": (SSLJob, "genrl.cli.ssl:run"),
    "impute": (ImputeJob, "genrl.cli.impute:run"),
    "world-model train": (WorldModelTrainJob, "genrl.cli.world_model:run_train"),
    "world-model eval": (WorldModelEvalJob, "genrl.cli.world_model:run_eval"),
    "mbrl": (MBRLJob, "genrl.cli.world_model:run_mbrl"),
    "demos train-expert": (TrainExpertJob, "genrl.cli.gail:run_train_expert"),
    "demos collect": (CollectDemosJob, "genrl.cli.gail:run_collect"),
    "gail": (GailJob, "genrl.cli.gail:run_gail"),
    "quickstart": (QuickstartJob, "genrl.cli.quickstart:run"),
}
"""Command -> (its options, the function that runs it, as ``module:function``)."""

GROUPS = {"world-model": "Train or evaluate a world model of a gymnasium env.",
          "demos": "Train an SB3 expert or record its demonstrations."}  # fmt: skip
"""Commands of two words: the first word's help."""
