"""Does a behaviour-cloned actor survive GAIL's off-policy fine-tuning? Hopper-v5, a diagnosis.

BC of SAC's actor (``make_gail(bc_epochs=...)``) scores near the expert on Hopper-v5 with no env
step. Per variant: that warm start, then GAIL (the env's preset, ``learning_starts`` 1,000 so that
the cloned policy collects from then on; SB3 fills the first 1,000 with uniform random actions),
scored on 3 deterministic episodes at each of ``--at`` env steps. Probe-only options, over the
make_gail options of a variant:

- ``hold_actor``: the actor's optimizer skips its steps until this many env steps (the critic
  learns first; SAC's entropy coefficient still adapts);
- ``anchor``: TD3+BC's actor objective (Fujimoto & Gu 2021): the actor's gradient scaled by
  ``anchor / mean |Q|`` on a demo batch, plus the gradient of the squared error to the demo actions;
- ``bc_weight``: the actor's own gradient unscaled, plus ``bc_weight`` times the gradient of that
  squared error (a fixed weight: early in GAIL, mean |Q| is near 0 and TD3+BC's scale is huge);
- ``conservative``: a term in the critic's loss, ``conservative`` times the mean over demo states
  of Q(s, a') - Q(s, a_demo) for each head, a' one action from the current actor and one uniform
  (CQL's regulariser with the demo action in the data's place): the critic may not rate other
  actions above the expert's where the expert acted;
- ``mle_epochs``: after the squared-error clone, this many epochs of maximum likelihood of the demo
  actions under SAC's squashed Gaussian, so its noise scale is fitted too (SAC only).

Each scored point also records, on 2,000 training-demo states: ``mse``, the actor's deterministic
action against the demo action ([-1, 1] scale); ``q_pi`` and ``q_demo``, the critic (min of its
two heads) at the actor's and at the demo action; ``grad_cos``, the cosine between the critic's
action gradient at the actor's action and the direction to the demo action (negative: the critic
pulls the actor away from the demos); ``ent_coef`` (SAC); ``r_absorbing``, the discriminator's reward
for the absorbing state. ``round_steps`` and ``disc_updates`` in a variant trace finer steps at
the preset's ratio (e.g. 100 and 10).

One JSON line per (variant, seed): env, variant, seed, options, bc (score before any env step),
curve (env_steps, normalized_score and the diagnostics), seconds.

    python experiments/gail_warm_start.py --variants 'sac:{}' 'hold5k:{"hold_actor": 5000}' 'anchor:{"anchor": 2.5}'
    python experiments/gail_warm_start.py --variants 'td3_anchor:{"algo": "td3", "anchor": 2.5}'
    python experiments/gail_warm_start.py --variants 'cql1:{"conservative": 1.0}'
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from genrl.cli import parse_dataclass
from genrl.cli.parsing import parse_json_variant
from genrl.gail import GAIL, make_gail
from genrl.gail.absorbing import add_flag
from genrl.gail.sb3 import deterministic_action
from genrl.rollout import rollout
from genrl.transitions import Transitions


@dataclass
class Args:
    env: str = "Hopper-v5"
    seeds: list[int] = field(default_factory=lambda: [100])
    variants: list[str] = field(default_factory=lambda: ["sac:{}"])
    """NAME:JSON, make_gail options plus the probe options above"""
    at: list[int] = field(default_factory=lambda: [1000, 2000, 4000, 6000, 9000, 12000])
    """env steps at which the policy is scored"""
    bc_epochs: int = 50
    demo_fraction: float = 0.5
    demos_dir: str = "results/demos"
    threads: int = 1
    out: str = "results/gail_warm_start.jsonl"


def patch_actor_step(gail: GAIL, hold_actor: int, anchor: float | None, bc_weight: float = 0.0) -> None:
    """Wrap the actor optimizer's ``step`` (SB3 calls it right after the actor loss's backward)."""
    learner: Any = gail.learner
    actor, critic, opt = learner.actor, learner.critic, learner.actor.optimizer
    obs, act = demo_batch(gail)
    step = opt.step

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if learner.num_timesteps < hold_actor:
            return None
        if anchor is not None or bc_weight:
            idx = torch.randint(len(obs), (256,))
            if anchor is not None:
                with torch.no_grad():
                    q = torch.cat(critic(obs[idx], deterministic_action(learner, obs[idx])), 1).min(1).values.abs().mean()
                for p in actor.parameters():
                    if p.grad is not None:
                        p.grad.mul_(anchor / max(float(q), 1e-3))
            weight = bc_weight or 1.0
            (weight * ((deterministic_action(learner, obs[idx]) - act[idx]) ** 2).mean()).backward()
        return step(*args, **kwargs)

    opt.step = wrapped


def patch_critic_step(gail: GAIL, weight: float) -> None:
    """Add the ``conservative`` term's gradient before each critic optimizer step (see above)."""
    learner: Any = gail.learner
    critic, opt = learner.critic, learner.critic.optimizer
    obs, act = demo_batch(gail)
    step = opt.step

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        idx = torch.randint(len(obs), (256,))
        with torch.no_grad():
            others = [learner.actor(obs[idx]), torch.rand_like(act[idx]) * 2 - 1]
        q_demo = torch.cat(critic(obs[idx], act[idx]), 1)
        gap = sum(torch.cat(critic(obs[idx], a), 1) - q_demo for a in others) / len(others)
        (weight * cast(torch.Tensor, gap).mean(0).sum()).backward()
        return step(*args, **kwargs)

    if weight:
        opt.step = wrapped


def fit_noise_scale(gail: GAIL, epochs: int) -> None:
    """Maximum likelihood of the demo actions under SAC's squashed Gaussian (mean and noise scale)."""
    actor: Any = cast(Any, gail.learner).actor
    obs, act = demo_batch(gail)
    opt = torch.optim.Adam(actor.parameters(), lr=1e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(obs)).split(64):
            mean, log_std, _ = actor.get_action_dist_params(obs[idx])
            dist = actor.action_dist.proba_distribution(mean, log_std)
            loss = -dist.log_prob(act[idx].clamp(-0.999, 0.999)).mean()  # atanh of a saturated action is infinite
            opt.zero_grad()
            loss.backward()
            opt.step()


def diagnostics(gail: GAIL, n: int = 2000) -> dict[str, float]:
    """The critic's and the actor's view of the demos (see the module docstring)."""
    learner: Any = gail.learner
    obs, act = (x[:n] for x in demo_batch(gail))
    pi = deterministic_action(learner, obs).detach().requires_grad_(True)
    q_pi = torch.cat(learner.critic(obs, pi), 1).min(1).values
    (grad,) = torch.autograd.grad(q_pi.sum(), pi)
    with torch.no_grad():
        q_demo = torch.cat(learner.critic(obs, act), 1).min(1).values
        cos = torch.nn.functional.cosine_similarity(grad, act - pi, dim=1).mean()
        ent = float(learner.log_ent_coef.exp()) if getattr(learner, "log_ent_coef", None) is not None else float("nan")
    stats = {"mse": ((act - pi) ** 2).mean(), "q_pi": q_pi.detach().mean(), "q_demo": q_demo.mean(), "grad_cos": cos,
             "ent_coef": ent, "r_absorbing": gail.reward_net.absorbing_reward()}  # fmt: skip
    return {k: round(float(v), 4) for k, v in stats.items()}


def demo_batch(gail: GAIL) -> tuple[torch.Tensor, torch.Tensor]:
    """Training demos as the actor sees them: (observations with the flag, actions in [-1, 1])."""
    d, learner = gail.train_demos, cast(Any, gail.learner)
    obs = d.obs.astype(np.float32)
    obs_t = torch.as_tensor(add_flag(obs) if gail.flagged else obs)
    return obs_t, torch.as_tensor(learner.policy.scale_action(d.act.astype(np.float32)))


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    demos = Transitions.load(Path(args.demos_dir) / f"{args.env}_sac.npz")
    meta = demos.meta
    out = Path(args.out)
    done = {(r["variant"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())} if out.exists() else set()

    def score(gail: GAIL, seed: int) -> float:
        ret = rollout(gail, args.env, 3, seed=seed + 500).mean_return
        return round((ret - meta["random_return"]) / (meta["expert_return"] - meta["random_return"]), 3)

    for spec in args.variants:
        name, options = parse_json_variant(spec)
        for seed in args.seeds:
            if (name, seed) in done:
                continue
            kw = dict(options)
            hold, anchor, bc_weight = int(kw.pop("hold_actor", 0)), kw.pop("anchor", None), float(kw.pop("bc_weight", 0.0))
            mle_epochs, conservative = int(kw.pop("mle_epochs", 0)), float(kw.pop("conservative", 0.0))
            kw.setdefault("algo", "sac")
            kw["algo_kwargs"] = {"learning_starts": 1000, **kw.get("algo_kwargs", {})}
            t0 = time.perf_counter()
            gail = make_gail(args.env, demos, absorbing=True, bc_epochs=args.bc_epochs, demo_fraction=args.demo_fraction,
                             seed=seed, device="cpu", **kw)  # fmt: skip
            fit_noise_scale(gail, mle_epochs)
            patch_actor_step(gail, hold, anchor, bc_weight)
            patch_critic_step(gail, conservative)
            row: dict[str, Any] = {"env": args.env, "variant": name, "seed": seed, "options": options,
                                   "demo_fraction": args.demo_fraction, "bc": score(gail, seed), "curve": []}  # fmt: skip
            for steps in args.at:
                gail.learn(steps)
                row["curve"].append({"env_steps": gail.learner.num_timesteps, "normalized_score": score(gail, seed),
                                     **diagnostics(gail)})  # fmt: skip
                print(name, seed, row["curve"][-1], flush=True)
            row["seconds"] = round(time.perf_counter() - t0, 1)
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(parse_dataclass(Args, description=__doc__))
