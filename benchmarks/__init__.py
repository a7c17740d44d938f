"""Speed and calibration scripts that import the lab (`python -m benchmarks.<name>`); nothing imports them."""
from __future__ import annotations

import statistics


def print_ratios(times: dict[str, list[float]], base: str) -> None:
    """Each entry's median, min and max seconds, and its median's ratio to the median of `base`."""
    width = max(len(name) for name in times)
    ref = statistics.median(times[base])
    print(f"{'':{width}s} {'median s':>8s} {'min':>5s} {'max':>5s} {'ratio':>6s}")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"{name:{width}s} {m:8.1f} {min(ts):5.1f} {max(ts):5.1f} {m / ref:6.2f}")
