"""Peer benchmark: the `imitation` library's GAIL (1.0.1) on genrl's MuJoCo demonstrations.

Runs in its own venv (``bash experiments/peers/setup_imitation.sh``; imitation pins gymnasium 0.29 and
stable-baselines3 2.2, which genrl's venv cannot hold) and does not import genrl: the demonstrations
are read with numpy. One JSON line per evaluation goes to ``--out``, in the fields genrl's GAIL
benchmarks write::

    experiments/peers/.venv-imitation/bin/python experiments/peers/imitation_gail.py \\
        --demos results/demos/Hopper-v5_sac.npz --env Hopper-v4 --seeds 0 1 2 \\
        --steps 200000 --eval-every 10000 --out results/gail_mujoco.jsonl

Hyperparameters: imitation's tuned GAIL config for seals Hopper, the file
``src/imitation/scripts/config/tuned_hps/gail_seals_hopper_best_hp_eval.json`` at tag v1.0.1 (the
named config ``gail_seals_hopper`` of ``imitation.scripts.train_adversarial``, which
``benchmarking/README.md`` uses for imitation's published benchmark), assembled as
``imitation.scripts.train_adversarial`` and its ingredients (``rl.make_rl_algo``,
``reward.make_reward_net``, ``environment.make_venv``) do it:

- GAIL: ``demo_batch_size=128``, ``gen_replay_buffer_capacity=4096``, ``n_disc_updates_per_round=8``;
  discriminator optimiser left at imitation's default (Adam, torch defaults); ``gen_train_timesteps``
  left at its default, the PPO rollout size (4096 env steps per round).
- Reward net: ``BasicRewardNet(normalize_input_layer=RunningNorm)`` (state and action inputs, its
  default 32-32 MLP) wrapped in ``NormalizedRewardNet(..., RunningNorm)``.
- PPO (stable-baselines3): ``rl.batch_size=4096`` over 8 envs, i.e. ``n_steps=512``;
  ``batch_size=512, n_epochs=20, learning_rate=4.3984856156897565e-5, gamma=0.995, gae_lambda=0.98,
  clip_range=0.1, ent_coef=0.001255299425412744, vf_coef=0.20315938606555833, max_grad_norm=0.9``;
  ``MlpPolicy`` with ``net_arch=dict(pi=[64, 64], vf=[64, 64])`` (the file's ``[dict(...)]``, which
  SB3 2.x reads the same), ``activation_fn=ReLU``, ``NormalizeFeaturesExtractor(RunningNorm)``.

HalfCheetah (``--demos results/demos/HalfCheetah-v5_sac.npz --env HalfCheetah-v4``): the tuned config
for seals HalfCheetah, ``gail_seals_half_cheetah_best_hp_eval.json`` at v1.0.1, assembled the same
way: ``demo_batch_size=8192, gen_replay_buffer_capacity=512, n_disc_updates_per_round=8``; PPO
``batch_size=64, n_epochs=5, learning_rate=2.6250519e-4, gamma=0.95, gae_lambda=0.95, clip_range=0.1,
ent_coef=3.99e-6, vf_coef=0.1148, max_grad_norm=0.8`` on 4096-step rounds; imitation's
``FeedForward32Policy`` (SB3's ``ActorCriticPolicy`` with ``net_arch=[32, 32]``, Tanh) with the same
normalising features extractor. ``CONFIGS`` holds both; other envs are refused.

Deviations from imitation's benchmark:

- env: ``--env`` (Hopper-v4 / HalfCheetah-v4, as close as gymnasium 0.29 gets to the demos' v5; see
  README.md) instead of ``seals/Hopper-v1`` / ``seals/HalfCheetah-v1``. seals' Hopper never
  terminates (fixed 1000-step horizon) and observes the x position too (12 values); Hopper-v4 ends an
  episode when the hopper falls, so GAIL is built with ``allow_variable_horizon=True`` (imitation
  refuses variable horizons otherwise; its docs warn that termination can leak reward information,
  the very bias genrl's absorbing-state GAIL studies).
- demonstrations: genrl's (e.g. 10 SAC episodes) instead of imitation's HuggingFace PPO rollouts.
- budget: ``--steps`` (200k) instead of ``total_timesteps=1e7``; evaluation: 5 deterministic episodes
  every ``--eval-every`` steps (genrl's protocol) instead of 50 at the end.
- the 8 envs run in one process (``DummyVecEnv``, as ``parallel=False``) instead of subprocesses,
  so the run uses ``--threads`` cores; this changes speed, not results.
- ``--smoke``: 2048-step rounds (``n_steps=256``) for quick tests; never for reported numbers.

Training runs whole GAIL rounds (``trainer.train``); after the first round that reaches each multiple
of ``--eval-every`` (and at ``--steps``) the policy plays 5 deterministic episodes on the true reward,
episode ``i`` from ``env.reset(seed=seed + 500 + i)`` (genrl's GAIL benchmarks' in-training
evaluation seeds). ``env_steps`` is the PPO step count, a multiple of the round size (4096), so
e.g. the 10k evaluation is at 12288 and the last at 200704. ``seconds`` is the wall time spent in
training so far, evaluations excluded.

Resuming is per whole run: a (env, method, seed) whose final evaluation (``env_steps >= --steps``)
is in ``--out`` is skipped. A run that was interrupted restarts from scratch; its earlier rows are
left in ``--out``, so a reader should keep, per (env, method, seed), only the rows of the last run
(a new run starts wherever ``env_steps`` goes down).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

METHOD = "imitation_gail"
N_ENVS = 8  # imitation's environment ingredient: num_vec = 8
SMOKE_RL_BATCH = 2048
CONFIGS = {  # imitation's tuned GAIL configs at v1.0.1, src/imitation/scripts/config/tuned_hps/<file>
    "Hopper": dict(  # gail_seals_hopper_best_hp_eval.json
        rl_batch=4096,  # rl.batch_size (n_steps = 4096 // 8)
        ppo=dict(batch_size=512, clip_range=0.1, ent_coef=0.001255299425412744, gae_lambda=0.98, gamma=0.995,
                 learning_rate=4.3984856156897565e-5, max_grad_norm=0.9, n_epochs=20, vf_coef=0.20315938606555833),
        gail=dict(demo_batch_size=128, gen_replay_buffer_capacity=4096, n_disc_updates_per_round=8),
        net_arch=dict(pi=[64, 64], vf=[64, 64]), activation="ReLU",  # policy.policy_kwargs
    ),
    "HalfCheetah": dict(  # gail_seals_half_cheetah_best_hp_eval.json
        rl_batch=4096,
        ppo=dict(batch_size=64, clip_range=0.1, ent_coef=3.992371122209408e-6, gae_lambda=0.95, gamma=0.95,
                 learning_rate=0.00026250519057717037, max_grad_norm=0.8, n_epochs=5, vf_coef=0.11483689492120866),
        gail=dict(demo_batch_size=8192, gen_replay_buffer_capacity=512, n_disc_updates_per_round=8),
        net_arch=[32, 32], activation="Tanh",  # FeedForward32Policy: SB3's ActorCriticPolicy with net_arch [32, 32]
    ),
}  # fmt: skip
"""Per env family (the env id before its version): the PPO, GAIL and policy settings."""
EVAL_EPISODES = 5
EVAL_SEED_OFFSET = 500  # genrl's GAIL benchmarks evaluate during training from reset(seed=seed + 500 + i)
RANDOM_EPISODES = 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--demos", required=True, help="genrl demonstrations (.npz, format genrl-transitions-1)")
    p.add_argument("--env", default="Hopper-v4", help="gymnasium 0.29 env id to train and evaluate in")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=200_000, help="env steps per run")
    p.add_argument("--eval-every", type=int, default=10_000, help="env steps between evaluations")
    p.add_argument("--out", default="results/gail_mujoco.jsonl")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--smoke", action="store_true", help="2048-step rounds (n_steps=256) for quick tests")
    return p.parse_args(argv)


def load_demos(path: str):
    """genrl's transitions file -> (imitation Transitions, meta dict, recorded episode returns)."""
    import numpy as np
    from imitation.data.types import Transitions

    with np.load(path, allow_pickle=False) as f:
        d = {k: f[k] for k in ("obs", "act", "next_obs", "rew", "terminated", "truncated", "meta")}
    meta = json.loads(str(d["meta"][()]))
    if meta.get("format") != "genrl-transitions-1":
        raise SystemExit(f"{path}: meta format is {meta.get('format')!r}, expected 'genrl-transitions-1'")
    terminated, truncated = d["terminated"].astype(bool), d["truncated"].astype(bool)
    # dones = terminated | truncated. imitation itself does the same for the generator's samples: the
    # SB3 VecEnv it trains in reports done for both, its TrajectoryAccumulator closes every such episode
    # with terminal=True and flatten_trajectories sets done on the last transition; so the expert and
    # generator batches of the discriminator follow one convention. GAIL's BasicRewardNet does not read
    # `done` (use_done=False), and PPO's bootstrapping at time limits is SB3's own (TimeLimit.truncated),
    # so the choice changes nothing in training here.
    dones = terminated | truncated
    n = len(d["obs"])
    demos = Transitions(
        obs=d["obs"].astype(np.float32),
        acts=d["act"].astype(np.float32),
        infos=np.array([{}] * n),
        next_obs=d["next_obs"].astype(np.float32),
        dones=dones,
    )
    ends = np.flatnonzero(dones)
    starts = np.r_[0, ends[:-1] + 1]
    returns = [float(d["rew"][s : e + 1].sum()) for s, e in zip(starts, ends)]
    return demos, meta, returns


def random_return(env_id: str, episodes: int = RANDOM_EPISODES) -> float:
    """Mean return of uniformly random actions; episode i starts from reset(seed=i)."""
    import gymnasium as gym

    env = gym.make(env_id)
    env.action_space.seed(0)
    total = 0.0
    for ep in range(episodes):
        env.reset(seed=ep)
        done = False
        while not done:
            _, r, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(r)
            done = terminated or truncated
    env.close()
    return total / episodes


def evaluate(policy, env_id: str, episodes: int, seed: int) -> float:
    """Mean true return of ``policy`` acting deterministically; episode i from reset(seed=seed + i)."""
    import gymnasium as gym

    env = gym.make(env_id)
    returns = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done, ret = False, 0.0
        while not done:
            act, _ = policy.predict(obs, deterministic=True)
            obs, r, terminated, truncated, _ = env.step(act)
            ret += float(r)
            done = terminated or truncated
        returns.append(ret)
    env.close()
    return sum(returns) / len(returns)


def finished_seeds(out: Path, env: str, steps: int) -> set[int]:
    done: set[int] = set()
    if out.exists():
        for line in out.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("env") == env and row.get("method") == METHOD and row.get("env_steps", 0) >= steps:
                done.add(row["seed"])
    return done


def run_seed(args: argparse.Namespace, seed: int, demos, env_id: str, expert_ret: float, rand_ret: float, out: Path) -> None:
    import imitation
    import numpy as np
    import torch
    from imitation.algorithms.adversarial.gail import GAIL
    from imitation.policies.base import NormalizeFeaturesExtractor
    from imitation.rewards.reward_nets import BasicRewardNet, NormalizedRewardNet
    from imitation.util import logger as imit_logger
    from imitation.util.networks import RunningNorm
    from imitation.util.util import make_vec_env
    from stable_baselines3 import PPO

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    config = CONFIGS[args.env.split("-")[0]]
    rl_batch = SMOKE_RL_BATCH if args.smoke else config["rl_batch"]
    venv = make_vec_env(args.env, rng=np.random.default_rng(seed), n_envs=N_ENVS, parallel=False)
    with tempfile.TemporaryDirectory(prefix="imitation_gail_") as tmp:
        reward_net = NormalizedRewardNet(
            BasicRewardNet(venv.observation_space, venv.action_space, normalize_input_layer=RunningNorm),
            RunningNorm,
        )
        gen_algo = PPO(
            "MlpPolicy",
            venv,
            n_steps=rl_batch // N_ENVS,
            policy_kwargs=dict(
                activation_fn=getattr(torch.nn, config["activation"]),
                features_extractor_class=NormalizeFeaturesExtractor,
                features_extractor_kwargs=dict(normalize_class=RunningNorm),
                net_arch=config["net_arch"],
            ),
            seed=seed,
            device="cpu",
            **config["ppo"],
        )
        trainer = GAIL(
            demonstrations=demos,
            venv=venv,
            gen_algo=gen_algo,
            reward_net=reward_net,
            allow_variable_horizon=True,  # Hopper-v4 terminates early; see the module docstring
            log_dir=tmp,
            custom_logger=imit_logger.configure(Path(tmp) / "log", format_strs=[]),
            **config["gail"],
        )
        round_steps = trainer.gen_train_timesteps
        seconds = 0.0
        while gen_algo.num_timesteps < args.steps:
            now = gen_algo.num_timesteps
            target = min((now // args.eval_every + 1) * args.eval_every, args.steps)
            rounds = -(-(target - now) // round_steps)  # ceil
            t0 = time.perf_counter()
            trainer.train(rounds * round_steps)
            seconds += time.perf_counter() - t0
            ret = evaluate(trainer.policy, args.env, EVAL_EPISODES, seed + EVAL_SEED_OFFSET)
            row = {"env": env_id, "env_run": args.env, "method": METHOD, "library": f"imitation {imitation.__version__}",
                   "algo": "ppo", "seed": seed, "env_steps": int(gen_algo.num_timesteps), "return_mean": ret,
                   "normalized_score": (ret - rand_ret) / (expert_ret - rand_ret), "expert_return": expert_ret,
                   "random_return": rand_ret, "seconds": round(seconds, 1)}  # fmt: skip
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    venv.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Thread limits before torch is imported (OpenMP reads them at start-up).
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("TQDM_DISABLE", "1")  # trainer.train's per-round progress bar
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    if args.steps < 1 or args.eval_every < 1:
        raise SystemExit("--steps and --eval-every must be >= 1")

    demos, meta, returns = load_demos(args.demos)
    env_id = meta.get("env_id", args.env)
    import gymnasium as gym

    if args.env.split("-")[0] not in CONFIGS:
        raise SystemExit(f"--env {args.env}: imitation's tuned settings are here for {sorted(CONFIGS)} only")
    probe = gym.make(args.env)
    obs_dim, act_dim = probe.observation_space.shape, probe.action_space.shape
    probe.close()
    if demos.obs.shape[1:] != obs_dim or demos.acts.shape[1:] != act_dim:
        raise SystemExit(f"{args.demos}: obs {demos.obs.shape[1:]} / act {demos.acts.shape[1:]} do not fit "
                         f"{args.env}'s {obs_dim} / {act_dim}")  # fmt: skip
    expert_ret = float(meta["expert_return"]) if "expert_return" in meta else float(np.mean(returns))
    rand_ret = float(meta["random_return"]) if "random_return" in meta else random_return(args.env)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = finished_seeds(out, env_id, args.steps)
    for seed in args.seeds:
        if seed in done:
            print(f"{env_id} {METHOD} seed {seed}: finished in {out}, skipped", flush=True)
            continue
        run_seed(args, seed, demos, env_id, expert_ret, rand_ret, out)


if __name__ == "__main__":
    main(sys.argv[1:])
