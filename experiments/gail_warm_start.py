"""Does a behaviour-cloned actor survive GAIL's off-policy fine-tuning? Hopper-v5, a diagnosis.

BC of SAC's actor (``make_gail(bc_epochs=...)``) scores near the expert on Hopper-v5 with no env
step. Per variant: that warm start, then GAIL (the env's preset, ``learning_starts`` 1,000 so that
the cloned policy collects from then on), scored on 3 deterministic episodes at each of ``--at``
env steps. Two probe-only options, over the make_gail options of a variant:

- ``hold_actor``: the actor's optimizer skips its steps until this many env steps (the critic
  learns first; SAC's entropy coefficient still adapts);
- ``anchor``: TD3+BC's actor objective (Fujimoto & Gu 2021): the actor's gradient scaled by
  ``anchor / mean |Q|`` on a demo batch, plus the gradient of the squared error to the demo actions.

One JSON line per (variant, seed): env, variant, seed, options, bc (score before any env step),
curve (env_steps, normalized_score), seconds.

    python experiments/gail_warm_start.py --variants 'sac:{}' 'hold5k:{"hold_actor": 5000}' 'anchor:{"anchor": 2.5}'
    python experiments/gail_warm_start.py --variants 'td3_anchor:{"algo": "td3", "anchor": 2.5}'
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    """NAME:JSON, make_gail options plus hold_actor and anchor (see above)"""
    at: list[int] = field(default_factory=lambda: [1000, 2000, 4000, 6000, 9000, 12000])
    """env steps at which the policy is scored"""
    bc_epochs: int = 50
    demo_fraction: float = 0.5
    demos_dir: str = "results/demos"
    threads: int = 1
    out: str = "results/gail_warm_start.jsonl"


def patch_actor_step(gail: GAIL, hold_actor: int, anchor: float | None) -> None:
    """Wrap the actor optimizer's ``step`` (SB3 calls it right after the actor loss's backward)."""
    learner: Any = gail.learner
    actor, critic, opt = learner.actor, learner.critic, learner.actor.optimizer
    obs = torch.as_tensor(add_flag(gail.train_demos.obs.astype(np.float32)) if gail.flagged else gail.train_demos.obs)
    act = torch.as_tensor(learner.policy.scale_action(gail.train_demos.act.astype(np.float32)))
    step = opt.step

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if learner.num_timesteps < hold_actor:
            return None
        if anchor is not None:
            idx = torch.randint(len(obs), (256,))
            with torch.no_grad():
                q = torch.cat(critic(obs[idx], deterministic_action(learner, obs[idx])), 1).min(1).values.abs().mean()
            for p in actor.parameters():
                if p.grad is not None:
                    p.grad.mul_(anchor / max(float(q), 1e-3))
            ((deterministic_action(learner, obs[idx]) - act[idx]) ** 2).mean().backward()
        return step(*args, **kwargs)

    opt.step = wrapped


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
            hold, anchor = int(kw.pop("hold_actor", 0)), kw.pop("anchor", None)
            kw.setdefault("algo", "sac")
            kw["algo_kwargs"] = {"learning_starts": 1000, **kw.get("algo_kwargs", {})}
            t0 = time.perf_counter()
            gail = make_gail(args.env, demos, absorbing=True, bc_epochs=args.bc_epochs, demo_fraction=args.demo_fraction,
                             seed=seed, device="cpu", **kw)  # fmt: skip
            patch_actor_step(gail, hold, anchor)
            row: dict[str, Any] = {"env": args.env, "variant": name, "seed": seed, "options": options,
                                   "demo_fraction": args.demo_fraction, "bc": score(gail, seed), "curve": []}  # fmt: skip
            for steps in args.at:
                gail.learn(steps)
                row["curve"].append({"env_steps": gail.learner.num_timesteps, "normalized_score": score(gail, seed)})
                print(name, seed, row["curve"][-1], flush=True)
            row["seconds"] = round(time.perf_counter() - t0, 1)
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(parse_dataclass(Args, description=__doc__))
