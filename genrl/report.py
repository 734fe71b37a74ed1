"""A self-contained HTML report: a header saying how it was made, a summary of each result beside
its goal or reference, then one section per job with its metrics (each defined, with the direction
that is better) and its plots embedded as data URIs. One file; nothing else is needed to view it."""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRICS: dict[str, tuple[str, str]] = {
    "modes": ("modes with at least one high-quality sample (within 3σ of its centre)", "higher"),
    "hq_fraction": ("fraction of samples within 3σ of some mode; true samples score 98.9%", "higher"),
    "reverse_kl": ("KL(histogram of high-quality samples over the modes ‖ uniform)", "lower"),
    "spread": ("std of each captured mode's high-quality samples / σ, mean over modes; true samples 0.98", "near 0.98"),
    "energy_distance": ("energy distance between model and true samples (0 for the same distribution)", "lower"),
    "energy_distance_floor": ("the energy distance of true samples against true samples: the noise floor", "lower"),
    "energy_score": ("energy score of model samples against logged next states (a proper scoring rule)", "lower"),
    "rollout_error": ("mean standardised distance of a 20-step open-loop model rollout from the real one", "lower"),
    "conditional_accuracy": ("fraction of generated digits a reference classifier assigns to their label", "higher"),
    "classifier_frechet_distance": ("Fréchet distance of generated vs real digits in the classifier's features", "lower"),
    "per_class_accuracy": ("conditional accuracy per label", "higher"),
    "test_accuracy": ("accuracy on held-out test rows", "higher"),
    "test_error": ("1 - test accuracy", "lower"),
    "normalized_score": ("(learner - random) / (expert - random) return: 1 is the expert, 0 random play", "higher"),
    "return_mean": ("mean true return of the learner over 10 evaluation episodes", "higher"),
    "expert_return": ("mean return of the demonstrations", ""),
    "random_return": ("mean return of uniformly random actions", ""),
    "seconds": ("wall-clock seconds of the job", "lower"),
    "steps": ("training steps", ""),
    "env_steps": ("environment steps taken by the learner", ""),
    "transitions": ("real transitions the world model was fitted on", ""),
    "probes": ("held-out (s, a) pairs scored against the true kernel", ""),
    "n_labeled": ("labeled training rows (the rest are unlabeled)", ""),
}
"""Metric name -> (one-line definition, which direction is better)."""


@dataclass
class Section:
    """One part of the report: a title, metric columns (``{column: {metric: value}}``; one column per
    model compared side by side) and the plots."""

    title: str
    columns: dict[str, dict[str, Any]]
    images: list[Path] = field(default_factory=list)
    note: str = ""


@dataclass
class Headline:
    """One summary row: a job's main figure beside its goal or reference."""

    job: str
    metric: str
    value: Any
    reference: str


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "undefined" if not math.isfinite(v) else f"{v:.4g}"
    if isinstance(v, dict):
        return html.escape(", ".join(f"{k}: {_cell(x)}" for k, x in v.items()))
    if isinstance(v, list):
        return html.escape(f"{len(v)} values")
    return html.escape(str(v))


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0;width:100%;table-layout:auto}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f4f4f4}tr:first-child th{white-space:nowrap}
.dir{color:#555;white-space:nowrap}.def{color:#555;font-size:90%}.num{white-space:nowrap}
.plots{display:flex;flex-wrap:wrap;gap:8px}.plots img{max-width:100%;width:520px;height:auto}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}header dt{font-weight:bold}
"""


def write_report(path: str | Path, title: str, header: dict[str, str], summary: list[Headline],
                 sections: list[Section]) -> Path:  # fmt: skip
    """Write ``path`` (HTML, no external files needed to view it).

    :param header: how the report was made (command, date, versions, device, threads, time).
    :param summary: the main figure of each job beside its goal or reference.
    """
    p = [f"<!doctype html><html lang='en'><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
         f"<title>{html.escape(title)}</title><style>{_STYLE}</style><h1>{html.escape(title)}</h1><header><dl>"]  # fmt: skip
    p += [f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in header.items()]
    p.append(
        "</dl></header><h2>Summary</h2><table><tr><th>job</th><th>metric</th><th>value</th><th>goal or reference</th></tr>"
    )
    for h in summary:
        direction = METRICS.get(h.metric, ("", ""))[1]
        name = f"{h.metric} ({direction} is better)" if direction else h.metric
        p.append(f"<tr><td>{html.escape(h.job)}</td><td>{html.escape(name)}</td><td class='num'>{_cell(h.value)}</td>"
                 f"<td>{html.escape(h.reference)}</td></tr>")  # fmt: skip
    p.append("</table>")
    for s in sections:
        p.append(f"<section><h2>{html.escape(s.title)}</h2>")
        if s.note:
            p.append(f"<p>{html.escape(s.note)}</p>")
        names = list(s.columns)
        heads = "".join(f"<th>{html.escape(n)}</th>" for n in names)
        p.append(f"<table><tr><th>metric</th>{heads}<th>better</th><th>meaning</th></tr>")
        keys = list(dict.fromkeys(k for col in s.columns.values() for k in col))
        for k in keys:
            meaning, direction = METRICS.get(k, ("", ""))
            cells = "".join(f"<td>{_cell(s.columns[n].get(k, ''))}</td>" for n in names)
            p.append(f"<tr><th>{html.escape(k)}</th>{cells}<td class='dir'>{direction}</td>"
                     f"<td class='def'>{html.escape(meaning)}</td></tr>")  # fmt: skip
        p.append("</table><div class='plots'>")
        for img in s.images:
            if Path(img).exists():
                data = base64.b64encode(Path(img).read_bytes()).decode()
                p.append(f"<img alt='{html.escape(Path(img).parent.name)}: {html.escape(Path(img).stem)}' "
                         f"src='data:image/png;base64,{data}'>")  # fmt: skip
        p.append("</div></section>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(p) + "\n</html>\n")
    return path
