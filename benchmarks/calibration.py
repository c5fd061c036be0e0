"""Calibration of the verdicts: how often a true claim fails, or is called inconclusive, at level alpha.

For each claim, the verifier runs at its defaults with ``seeds`` different seeds at ``alpha`` (0.05: a
level at which false rejections are frequent enough to count). A calibrated z-test fails a true claim
at a rate near alpha (exact claims never); a sound heavy-tail diagnostic and a sound planner leave the
false-inconclusive rate near 0. Each rate is reported with its two-sided 95% Clopper-Pearson interval.

    python benchmarks/calibration.py --seeds 200 --jobs 2 [ID ...]

Claims and seeds are spread over ``jobs`` local processes; the result is the same with any number.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from scipy.stats import beta

DEFAULT_CLAIMS = (
    "xent.score-identity", "init.xavier", "init.relu-critical", "init.he-forward", "init.gain", "ntk.relu",
    "rmt.lyapunov", "residual.vanishing", "huffman.quantized-gaussian", "deeplinear.no-bad-minima",
)


def _one(job: tuple[str, int, float]) -> tuple[str, int, str, float]:
    import workbench as wb

    claim, seed, alpha = job
    v = wb.verify(claim, seed=seed, alpha=alpha)
    return claim, seed, v.status, v.seconds


def interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval for a rate after ``k`` events in ``n`` trials."""
    a = (1 - confidence) / 2
    low = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return low, high


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*", default=list(DEFAULT_CLAIMS))
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    jobs = [(c, s, args.alpha) for c in args.ids for s in range(args.seeds)]
    began = time.perf_counter()
    counts: dict[str, dict[str, int]] = {c: {"pass": 0, "fail": 0, "inconclusive": 0} for c in args.ids}
    seconds: dict[str, float] = dict.fromkeys(args.ids, 0.0)
    with ProcessPoolExecutor(args.jobs) as pool:
        for claim, _seed, status, secs in pool.map(_one, jobs, chunksize=4):
            counts[claim][status] += 1
            seconds[claim] += secs
    rows = []
    for c in args.ids:
        k = counts[c]
        n = sum(k.values())
        rows.append({"claim": c, "runs": n, **k, "false_fail_rate": k["fail"] / n,
                     "false_fail_95": interval(k["fail"], n), "false_inconclusive_rate": k["inconclusive"] / n,
                     "false_inconclusive_95": interval(k["inconclusive"], n), "seconds_per_run": seconds[c] / n})
    total = {s: sum(counts[c][s] for c in args.ids) for s in ("pass", "fail", "inconclusive")}
    n = sum(total.values())
    if args.json:
        print(json.dumps({"alpha": args.alpha, "seeds": args.seeds, "claims": rows, "total": total}, indent=2))
        return 0
    print(f"alpha {args.alpha:g}, {args.seeds} seeds per claim, {time.perf_counter() - began:.0f} s")
    print(f"{'claim':28s} {'runs':>5s} {'fail':>5s} {'false-fail rate (95% CI)':>28s} {'inconcl.':>8s} "
          f"{'false-inconclusive (95% CI)':>30s} {'s/run':>6s}")
    for r in rows:
        ff, fi = r["false_fail_95"], r["false_inconclusive_95"]
        print(f"{r['claim']:28s} {r['runs']:5d} {r['fail']:5d} {r['false_fail_rate']:8.3f} ({ff[0]:.3f}-{ff[1]:.3f})"
              f"{'':8s} {r['inconclusive']:8d} {r['false_inconclusive_rate']:8.3f} ({fi[0]:.3f}-{fi[1]:.3f}){'':8s}"
              f" {r['seconds_per_run']:6.2f}")
    ff, fi = interval(total["fail"], n), interval(total["inconclusive"], n)
    print(f"{'all':28s} {n:5d} {total['fail']:5d} {total['fail'] / n:8.3f} ({ff[0]:.3f}-{ff[1]:.3f}){'':8s} "
          f"{total['inconclusive']:8d} {total['inconclusive'] / n:8.3f} ({fi[0]:.3f}-{fi[1]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
