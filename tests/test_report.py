"""The quickstart report as a reader sees it: rendered by headless Chromium (Debian's package, which
``.ci/run`` installs when missing), every image must load and nothing may overflow the page."""

import json
import re
import shutil
import subprocess

import pytest

from genrl.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags the machine needs: no sandbox as root, no GPU, and no background connections to refuse.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]  # fmt: skip
CHECK = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt);
  const wide = [...document.querySelectorAll('table, img, pre')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName);
  document.title = JSON.stringify({images: imgs.length, broken, wide,
    overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth});
});
</script>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart")
    assert main(["quickstart", "--budget", "0.01", "--out", str(out), "--quiet", "--overwrite", "--jobs", "2"]) == 0
    return out / "report.html"


def test_parallel_quickstart_jobs_match_the_same_jobs_run_in_this_process(report, tmp_path):
    from genrl.cli.jobs import QuickstartJob
    from genrl.cli.quickstart import steps

    parallel = json.loads((report.parent / "metrics.json").read_text())
    assert parallel["workers"] == 2 and set(parallel["job_seconds"]) == {s.name for s in steps(QuickstartJob(out=tmp_path))}
    q = QuickstartJob(out=tmp_path, budget=0.01, quiet=True)
    for step in steps(q):
        if step.name in ("world_model_fork2d_gan", "impute_breast_cancer"):
            here, there = step.run(), parallel[step.name]
            for key, value in here.items():
                if key not in ("seconds", "csv"):
                    assert value == there[key], (step.name, key)


def test_report_says_how_it_was_made_and_summarises_every_job(report):
    text = report.read_text()
    for needed in ("command", "genrl quickstart --out", "versions", "torch", "gymnasium", "stable-baselines3", "device",
                   "CPU threads", "worker processes", "total time", "Summary", "higher is better", "lower is better",
                   "goal or reference", "GAN vs Gaussian ensemble"):  # fmt: skip
        assert needed in text, needed
    words = re.sub(r"data:image/png;base64,[^']*", "", text)  # the plots' bytes may spell anything
    assert "Infinity" not in words and "NaN" not in words


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
@pytest.mark.parametrize("width", [1280, 800])
def test_report_renders_in_headless_chromium(report, tmp_path, width):
    page = tmp_path / "report.html"
    page.write_text(report.read_text().replace("</html>", CHECK + "</html>"))
    r = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},900",
                        "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    title = re.search(r"<title>(.*?)</title>", r.stdout, flags=re.S)
    assert title, r.stderr[-2000:]
    result = json.loads(title.group(1).replace("&quot;", '"'))
    assert result["images"] >= 10 and result["broken"] == [], result
    assert result["wide"] == [] and not result["overflow"], result
