/**
 * Seeded random sampling for the benchmarks, so a run's access pattern can be repeated:
 * a small PRNG (mulberry32) and a Zipf sampler over ranks 0…n−1.
 */

/** mulberry32: a 32-bit seeded PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Zipf over ranks 0…n−1 with exponent `s`: P(rank k) ∝ 1 / (k + 1)^s. Inverse-CDF sampling over a
 * precomputed cumulative table (binary search), driven by `random` (seed it for repeatability).
 */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  if (n < 1) throw new Error('zipf: n must be at least 1');
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  for (let k = 0; k < n; k++) cdf[k] /= total;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Share of the draws that the `top` most popular ranks receive under Zipf(n, s) (for the README). */
export function zipfTopShare(n: number, s: number, top: number): number {
  let all = 0;
  let head = 0;
  for (let k = 0; k < n; k++) {
    const w = 1 / (k + 1) ** s;
    all += w;
    if (k < top) head += w;
  }
  return head / all;
}
