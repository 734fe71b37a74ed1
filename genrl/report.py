"""A self-contained HTML report: tables of metrics and the PNG plots embedded as data URIs."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Section:
    """One job's part of the report: a title, its metrics and the plots it wrote."""

    title: str
    metrics: dict[str, Any]
    images: list[Path] = field(default_factory=list)
    note: str = ""


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (dict, list)):
        return html.escape(json.dumps(v))
    return html.escape(str(v))


def write_report(path: str | Path, title: str, sections: list[Section]) -> Path:
    """Write ``path`` (HTML, no external files needed to view it)."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
             "img{max-width:480px;margin:4px}</style>", f"<h1>{html.escape(title)}</h1>"]  # fmt: skip
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        if s.note:
            parts.append(f"<p>{html.escape(s.note)}</p>")
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in s.metrics.items())
        parts.append(f"<table>{rows}</table><div>")
        for img in s.images:
            if Path(img).exists():
                data = base64.b64encode(Path(img).read_bytes()).decode()
                parts.append(f"<img alt='{html.escape(Path(img).name)}' src='data:image/png;base64,{data}'>")
        parts.append("</div>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
