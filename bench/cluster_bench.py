"""Dataset-wide near-duplicate clustering (``assetflow.domain.clusters``) against N and k.

Pure code, no services: N uniformly random 64-bit pHashes, of which 1 % are then replaced by
a near copy (1-6 bits flipped) of another image's hash, are clustered at k = 3, 6 and 10,
``--repeats`` times each (median reported, min-max beside it). Reported per run: seconds,
the candidate pairs whose distance was computed (pairs sharing a probed band value, about
N^2 / 2 x masks / 65,536: quadratic in N, but 428 / 65,536 = 0.65 % of all pairs at k = 10),
the pairs found within k and the clusters; then each k's growth from the second largest N to
the largest. Every planted pair within k is checked to land in one cluster.

    .venv/bin/python bench/cluster_bench.py
    .venv/bin/python bench/cluster_bench.py --max-n 100000 --ks 3,6
"""

import argparse
import os
import platform
import statistics
import time

import numpy as np

from assetflow.domain.clusters import ClusterScan, scan_clusters

PLANTED = 0.01


def dataset(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random hashes with 1 % near copies: (hashes, copy -> original pairs, their distance)."""
    hashes = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    chosen = rng.permutation(n)[: 2 * int(n * PLANTED)].reshape(-1, 2)
    distance = rng.integers(1, 7, size=len(chosen))
    for (original, copy), bits in zip(chosen.tolist(), distance.tolist(), strict=True):
        flips = sum(1 << int(bit) for bit in rng.choice(64, size=bits, replace=False))
        hashes[copy] = hashes[original] ^ np.uint64(flips)
    return hashes, chosen, distance


def check(scan: ClusterScan, n: int, planted: np.ndarray, distance: np.ndarray, k: int) -> None:
    """Every planted pair within k is in one cluster."""
    label = np.full(n, -1)
    for number, cluster in enumerate(scan.clusters):
        label[cluster] = number
    pairs = planted[distance <= k]
    first, second = label[pairs[:, 0]], label[pairs[:, 1]]
    assert ((first == second) & (first >= 0)).all(), f"a planted pair was missed at k = {k}"


def main() -> None:
    """Generate, time, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--ks", default="3,6,10")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-n", type=int, default=None, help="skip the sizes above this")
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if args.max_n is None or int(s) <= args.max_n]
    ks = [int(k) for k in args.ks.split(",")]
    rng = np.random.default_rng(args.seed)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"# cluster bench: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"numpy {np.__version__}, load average {load}, median of {args.repeats}"
    )
    scan_clusters(rng.integers(0, 2**64, size=1000, dtype=np.uint64), max(ks))  # warm-up
    print("| N | k | seconds (min-max) | candidates verified | pairs within k | clusters |")
    print("|---:|---:|---:|---:|---:|---:|")
    medians: dict[tuple[int, int], float] = {}
    for n in sizes:
        hashes, planted, distance = dataset(n, rng)
        for k in ks:
            samples = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                scan = scan_clusters(hashes, k)
                samples.append(time.perf_counter() - start)
            check(scan, n, planted, distance, k)
            medians[n, k] = statistics.median(samples)
            spread = f"{min(samples):.3f}-{max(samples):.3f}"
            print(
                f"| {n:,} | {k} | {medians[n, k]:.3f} ({spread}) | {scan.candidates:,} "
                f"| {scan.pairs:,} | {len(scan.clusters):,} |",
                flush=True,
            )
    if len(sizes) >= 2:
        small, large = sizes[-2], sizes[-1]
        ratios = ", ".join(f"k = {k}: {medians[large, k] / medians[small, k]:.1f}x" for k in ks)
        print(f"\n{large:,} / {small:,} ({large // small}x the images): {ratios}")


if __name__ == "__main__":
    main()
