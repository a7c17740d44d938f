"""Proved on this machine: the server retrains the shipped reference's runs on its job queue, at the
lowest priority, and records whether each reproduced (core.reference.build.compare: bit-identical on
the build's torch and CPU, else within the stated tolerance).

`ProveJob` is a `background` job (core.jobs): it trains only while no other job waits and gives way
to a person's job at its next chunk (about CHUNK_S seconds), so it never slows anyone's run by more
than one chunk and never trains beside another job. Its verdicts live in the job (`verdicts`) and,
for the pages, in `proof_line(runs)`: "Reproduced here: ..." or the difference, run by run.

The verdicts are kept beside the run store (`PROOFS` in its folder), under the reference's manifest
digest and this machine's platform (torch, numpy, Python, CPU), each verdict with the digest of the
files it speaks of: a restarted server takes them and retrains only the runs not yet proved; a new
reference, another platform or a run whose files changed proves again. The file is checked for shape
before use (load_proofs); its reasons are words for a page, which shows them as text. A person who can
write the data folder can still forge a file of the right shape: it is trusted as the run store is.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path

from core.config import RunConfig, validate
from core.jobs import CHUNK_S, FINISHED, STOPPED, Job, default_queue
from core.shipped import Reference
from core.reference.build import AGREES, DIFFERS, compare, platform_info, same_platform
from core.store import default_dir
from core.trainer import Trainer

log = logging.getLogger(__name__)

OWNER = "reference"  # the queue's owner id of the server's proving job
# The server waits this long before its first retraining chunk: a first open of the pages (imports,
# the first charts) must not share the cores with it.
START_AFTER_S = 30.0
IDLE_S = 0.25  # a chunk of waiting while it may not start yet (the queue looks for other jobs between)
PROOFS = "reference_proofs.json"  # the verdicts so far, in the run store's folder


def proofs_key(ref: Reference) -> dict:
    """What a kept verdict holds for: this reference (its manifest's digest) on this platform."""
    manifest = json.dumps(ref.manifest, sort_keys=True).encode()
    return {"manifest_sha256": hashlib.sha256(manifest).hexdigest(), **platform_info()}


MAX_WHY = 300  # a kept verdict's reason longer than this is not the lab's


def run_digest(ref: Reference, h: str) -> str | None:
    """What a verdict about run `h` speaks of: the sha256 of its files in the manifest (record and
    arrays), or of its index entry for a summary-only run; None when those files are not served
    (they did not match the manifest when read)."""
    e = ref.index.get(h)
    if e is None or (e.get("record") and ref.get(h) is None):
        return None
    if e.get("record"):
        files = ref.manifest["files"]
        what = {k: files[e[k]]["sha256"] for k in ("record", "arrays")}
    else:
        what = e
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def load_proofs(path: Path, ref: Reference) -> dict[str, tuple[str, str]]:
    """The verdicts kept in `path` for this reference on this platform ({} when none, or another's).
    Nothing is taken because it parses: the file must have the shape save_proofs writes, each verdict
    is AGREES or DIFFERS with a short line of reason, and each is bound to the files of its run
    (run_digest): a verdict about other bytes than those served now is dropped (that run is proved
    again). A verdict for a run the reference no longer holds is dropped too."""
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict) or kept.get("key") != proofs_key(ref):
        return {}
    verdicts, files = kept.get("verdicts"), kept.get("files")
    if not isinstance(verdicts, dict) or not isinstance(files, dict):
        return {}
    out = {}
    for h, v in verdicts.items():
        if not (isinstance(v, list) and len(v) == 2 and v[0] in (AGREES, DIFFERS) and isinstance(v[1], str)
                and len(v[1]) <= MAX_WHY and v[1].isprintable()):
            continue
        if h in ref.index and files.get(h) is not None and files.get(h) == run_digest(ref, h):
            out[h] = (v[0], v[1])
    return out


def save_proofs(path: Path, ref: Reference, verdicts: dict[str, tuple[str, str]]) -> None:
    """Write the verdicts whole (a temporary file renamed over the old one), each with the digest of
    the files it speaks of."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    files = {h: run_digest(ref, h) for h in verdicts}
    tmp.write_text(json.dumps({"key": proofs_key(ref), "verdicts": verdicts, "files": files}, indent=1,
                              sort_keys=True))
    os.replace(tmp, path)


def order(ref: Reference) -> list[str]:
    """The runs the pages show first come first: the lab's default and the tour (cheapest first),
    then the default sweep (cheapest first)."""
    def cost(h: str) -> float:
        e = ref.index[h]
        return (e["summary"].get("steps_run") or 1) * (e["config"]["task"]["seq_len"] + 8)
    full = sorted((h for h in ref.index if ref.index[h].get("record")), key=cost)
    return full + sorted((h for h in ref.index if not ref.index[h].get("record")), key=cost)


class ProveJob(Job):
    """Train reference runs again, one after the other, in chunks; `verdicts[hash] = (AGREES or
    DIFFERS, why)` as each ends."""

    background = True

    def __init__(self, ref: Reference, hashes: list[str] | None = None, owner: str = OWNER,
                 start_after_s: float = 0.0, keep: Path | None = None):
        """`keep`: a file of verdicts (PROOFS) to take at the start and to write after each run."""
        super().__init__(owner=owner)
        self.not_before = time.monotonic() + start_after_s
        self.ref = ref
        self.exact = same_platform(ref)
        self.keep = keep
        self.verdicts: dict[str, tuple[str, str]] = load_proofs(keep, ref) if keep is not None else {}
        self.todo = [h for h in (order(ref) if hashes is None else hashes) if h not in self.verdicts]
        self._trainer: Trainer | None = None
        self._chunk = 5
        self._stop = False

    def work(self) -> bool:
        t0 = time.perf_counter()
        try:
            if self._stop or not self.todo:
                return True
            if time.monotonic() < self.not_before:
                time.sleep(IDLE_S)
                return False
            h = self.todo[0]
            if self._trainer is None:
                self._trainer = Trainer(validate(RunConfig.from_dict(self.ref.index[h]["config"])), parallel=False)
                return False
            c0 = time.perf_counter()
            self._trainer.advance(self._chunk)
            dt = time.perf_counter() - c0
            self._chunk = max(1, min(200, round(self._chunk * CHUNK_S / max(dt, 1e-3))))
            if self._trainer.done:
                run = next(iter(self._trainer.result().runs.values()))
                self.verdicts[h] = compare(self.ref, h, run, self.exact)
                self.todo.pop(0)
                self._trainer = None
                self._keep()
            return not self.todo
        finally:
            self.wall_s += time.perf_counter() - t0

    def _keep(self) -> None:
        if self.keep is None:
            return
        try:
            save_proofs(self.keep, self.ref, self.verdicts)
        except OSError as e:  # a read-only disk: the verdicts stay in this process
            log.warning("reference proofs not kept in %s: %s", self.keep, e)
            self.keep = None

    def stop(self) -> None:
        self._stop = True

    def failed(self, e: BaseException) -> None:
        self.error = f"Retraining the reference failed: {type(e).__name__}: {e}"

    def end_state(self) -> str:
        return FINISHED if not self.todo and not self.error else STOPPED


_server: list[ProveJob] = []  # the process's proving job, once started (kept after it ends)
_lock = threading.Lock()


def proving() -> ProveJob | None:
    """The server's proving job, if one was started in this process."""
    return _server[0] if _server else None


def start(ref: Reference | None, start_after_s: float = START_AFTER_S) -> ProveJob | None:
    """Start the server's proving job once per process (None without a reference)."""
    if ref is None:
        return None
    with _lock:
        if not _server:
            job = ProveJob(ref, start_after_s=start_after_s, keep=default_dir() / PROOFS)
            default_queue().submit(job)
            _server.append(job)
    return _server[0]


def proof_line(hashes: list[str], job: ProveJob | None = None) -> str | None:
    """One line on whether this machine reproduced these reference runs (None: no proving job)."""
    job = job or proving()
    if job is None or not hashes:
        return None
    done = [h for h in hashes if h in job.verdicts]
    bad = [(h, job.verdicts[h][1]) for h in done if job.verdicts[h][0] != AGREES]
    how = "bit-identical" if job.exact else "same steps to target, final metric within tolerance"
    if bad:
        return ("Trained again here, and it differs from the reference: "
                + "; ".join(f"{job.ref.index[h]['summary'].get('name', h)} ({why})" for h, why in bad[:3]) + ".")
    if len(done) == len(hashes):
        return f"Reproduced here: trained again on this machine, {how} ({len(done)} of {len(hashes)} run(s))."
    if job.ended:
        return f"Reproduced here so far: {len(done)} of {len(hashes)} run(s), {how}; the rest was not retrained."
    return (f"Being reproduced here: {len(done)} of {len(hashes)} run(s) retrained so far, {how}; the server "
            "retrains the reference whenever no one's job waits.")


def seeds_line(by_seed: dict[int, list[str]], job: ProveJob | None = None) -> str | None:
    """One line on how many seeds of an experiment group (a chapter's runs, seed by seed) reproduced here:
    a seed counts once every run of it was trained again and agreed (bit-identical on the build's
    platform; elsewhere within tolerance or inside its seeds' spread, core.reference.build.compare).
    None without a proving job or reference runs."""
    job = job or proving()
    by_seed = {s: hs for s, hs in by_seed.items() if hs}
    if job is None or not by_seed:
        return None
    n = len(by_seed)
    done = [s for s, hs in by_seed.items() if all(h in job.verdicts for h in hs)]
    ok = [s for s in done if all(job.verdicts[h][0] == AGREES for h in by_seed[s])]
    bad = [(s, h, job.verdicts[h][1]) for s in done for h in by_seed[s] if job.verdicts[h][0] != AGREES]
    how = "bit-identical" if job.exact else "within tolerance or inside the seeds' spread"
    line = (f"Reproduced here: the runs of {len(ok)} of {n} seeds trained again on this machine, {how}" +
            (f"; {len(done) - len(ok)} differ" if len(done) > len(ok) else "") +
            ("." if len(done) == n else f"; {n - len(done)} seed(s) not retrained yet" +
             (" (the server retrains the reference whenever no one's job waits)." if not job.ended else ".")))
    if bad:
        s, h, why = bad[0]
        line += f" Seed {s}: {job.ref.index[h]['summary'].get('name', h)} differs ({why})."
    return line


__all__ = ["seeds_line", "ProveJob", "start", "proving", "proof_line", "order", "OWNER", "PROOFS", "load_proofs", "save_proofs",
           "proofs_key", "run_digest"]
