"""The output folder of a run: nothing in it is replaced or continued by accident.

Before a job writes into OUT, :func:`claim` checks it:

* a job that would replace what an earlier run left there (its checkpoint or result file) needs
  ``--overwrite`` (which deletes those files first), or ``--resume`` to continue that run;
* ``--resume`` needs a checkpoint there, and refuses one written with other options, naming them
  (the options are recorded in ``OUT/job.json`` when a run starts);
* options that only affect how a run is carried out (device, threads, progress, output, budget,
  checkpoint cadence) may differ on resume.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from typing import Any

from genrl.errors import InputError

JOB_FILE = "job.json"
RUN_ONLY = {"out", "quiet", "tensorboard", "threads", "jobs", "device", "steps", "checkpoint_every", "resume", "overwrite",
            "amp", "compile", "download", "subproc"}  # fmt: skip
"""Options that do not change what a run computes: a resumed run may change them."""


def options(job: Any) -> dict[str, Any]:
    """A job's options as JSON values."""
    return json.loads(json.dumps(dataclasses.asdict(job), default=str))


def claim(job: Any, outputs: tuple[str, ...], checkpoint: str | None = None, write: bool = True) -> bool:
    """Check ``job.out`` before the job writes there; return whether the job resumes.

    :param outputs: the files the job writes that an earlier run may have left (checkpoint first).
    :param checkpoint: the job's checkpoint file, if it can resume.
    :param write: record the job's options in ``OUT/job.json`` (rank 0 only under torchrun).
    """
    out = job.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a file where a folder should be, no permission, a read-only disk
        raise InputError(f"--out {out}: cannot create that folder ({e.strerror})") from None
    resume = bool(getattr(job, "resume", False))
    if resume:
        if checkpoint is None or not (out / checkpoint).exists():
            raise InputError(f"--resume: {out} holds no checkpoint ({checkpoint}) to continue; drop --resume to start a run")
        saved = json.loads((out / JOB_FILE).read_text()) if (out / JOB_FILE).exists() else {}
        now = options(job)
        differ = [k for k in now if k not in RUN_ONLY and k in saved and saved[k] != now[k]]
        if differ:
            what = ", ".join(f"--{k.replace('_', '-')} {saved[k]} (now {now[k]})" for k in differ)
            raise InputError(f"--resume: the run in {out} was started with other options: {what}")
    else:
        held = [name for name in outputs if (out / name).exists()]
        if held and not getattr(job, "overwrite", False):
            hint = "--resume to continue that run or " if checkpoint else ""
            raise InputError(f"{out} already holds {held[0]} from an earlier run; pass {hint}--overwrite to replace it")
        if write:  # the earlier run's files go now: a later --resume must never pick up its checkpoint
            for name in held:
                (out / name).unlink()
            _write_json(out / JOB_FILE, options(job))
    return resume


def _write_json(path: Any, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, path)
