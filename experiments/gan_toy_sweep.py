"""Recipe search for the 2-D mixtures: named variants of a toy recipe, scored along training.

Each variant is ``name:field=value,field=value`` over :class:`genrl.gan.presets.ToyRecipe`
(tuples as ``128x128x128``), trained with the tricks on; every ``eval_every`` steps the
(EMA) generator's samples are scored, one JSON line each: data, variant, loss, seed, step,
seconds (training only), modes, hq_fraction, reverse_kl, spread. The curves are what the HQ
against steps plot draws. Recipes are chosen on the seeds given here (100 and up by default),
never on the seeds ``experiments/gan_toy.py`` reports.

    python experiments/gan_toy_sweep.py --data grid25 --variants base: ema:ema_decay=0.999
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from genrl.cli import parse_dataclass
from genrl.cli.parsing import parse_variant
from genrl.data import get_mixture
from genrl.gan.presets import TOY_GOALS, toy_recipe, toy_trainer
from genrl.metrics import MixtureProbe
from genrl.plotting import plot_learning_curves


@dataclass
class Args:
    data: str = "grid25"
    variants: list[str] = field(default_factory=lambda: ["base:"])
    """name:field=value,... over ToyRecipe (the mixture's recipe for each loss is the base)"""
    losses: list[str] = field(default_factory=lambda: ["non_saturating"])
    seeds: list[int] = field(default_factory=lambda: [100])
    eval_every: int = 2000
    threads: int = 1
    out: str = "results/gan_toy_sweep.jsonl"
    """JSON lines are appended; (data, variant, loss, seed) already there are skipped"""
    plot: bool = False
    """only draw HQ and spread against steps for every variant in --out (one line each, mean over seeds)"""


def plot(out: Path, data: str) -> None:
    rows = [r for r in map(json.loads, out.read_text().splitlines()) if r["data"] == data]
    runs: dict[str, dict[tuple, list]] = {}
    for r in rows:
        runs.setdefault(f"{r['variant']} {r['loss']}", {}).setdefault((r["seed"],), []).append(r)
    curves = {name: [sorted(run, key=lambda r: r["step"]) for run in seeds.values()] for name, seeds in runs.items()}
    refs = {"true data": 0.989, "goal": TOY_GOALS[data].hq_fraction}
    plot_learning_curves(curves, out.with_name(f"{out.stem}_{data}_hq.png"), "step", "hq_fraction", data, refs)
    plot_learning_curves(curves, out.with_name(f"{out.stem}_{data}_spread.png"), "step", "spread", data,
                         {"true data": 0.97, "±20%": 0.8})  # fmt: skip


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.plot:
        plot(out, args.data)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        rows = map(json.loads, out.read_text().splitlines())
        done = {(r["data"], r["variant"], r["loss"], r["seed"]) for r in rows if r["step"] == r["recipe"]["steps"]}
    mixture = get_mixture(args.data)
    for spec in args.variants:
        for loss in args.losses:
            name, recipe = parse_variant(spec, toy_recipe(args.data, loss))
            for seed in args.seeds:
                if (args.data, name, loss, seed) in done:
                    continue
                X = mixture.sample(100_000, seed)[0]
                trainer = toy_trainer(args.data, loss, True, seed=seed, device="cpu", recipe=recipe)
                key = {"data": args.data, "variant": name, "loss": loss, "seed": seed}

                def emit(scores, key=key, recipe=recipe):
                    with out.open("a") as f:
                        f.write(json.dumps({**key, **scores, "recipe": asdict(recipe)}) + "\n")
                    print(json.dumps({**key, **scores}), flush=True)

                probe = MixtureProbe(mixture, args.eval_every, recipe.steps, seed, emit)
                trainer.fit(X, steps=recipe.steps, progress=False, log_every=500, callback=probe)


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
