/** Deterministic prefix sets for the benchmarks. */

/** i-th /32 in 10.0.0.0/8. */
export function hostPrefix(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
}

/** i-th /24 from 1.0.0.0 up (1M of them end in 16.x.x.0/24). */
export function netPrefix(i: number): string {
  return `${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`;
}
