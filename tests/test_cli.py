import json
import subprocess
import sys

from genrl.cli import main


def test_gan_command_writes_metrics_and_plots(tmp_path):
    out = tmp_path / "ring"
    assert main(["gan", "--data", "ring8", "--steps", "60", "--out", str(out), "--quiet", "--checkpoint-every", "30"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"modes", "hq_fraction", "reverse_kl", "energy_distance", "seconds"} <= metrics.keys()
    assert metrics["steps"] == 60
    assert (out / "samples.png").stat().st_size > 0 and (out / "losses.png").stat().st_size > 0
    # --resume continues to the new total instead of starting over.
    assert main(["gan", "--data", "ring8", "--steps", "90", "--out", str(out), "--quiet", "--resume"]) == 0
    assert json.loads((out / "metrics.json").read_text())["steps"] == 90


def test_bad_option_gives_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "genrl.cli", "gan", "--loss", "wgan", "--out", str(tmp_path)],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and "invalid choice: 'wgan'" in r.stderr
