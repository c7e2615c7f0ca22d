/**
 * Loopback addresses and ports for tests that run real BGP daemons side by
 * side. Each caller gets a distinct 127.x.y.z so parallel suites never
 * collide, and ports stay unprivileged.
 */

let counter = 0;

/** A fresh loopback address in 127.64.0.0/10, distinct per process and call. */
export function loopbackAddress(): string {
  const seed = (process.pid * 97 + counter++ * 7919 + Math.floor(Math.random() * 4096)) % (1 << 22);
  return `127.${64 + (seed >> 16)}.${(seed >> 8) & 0xff}.${(seed & 0xff) || 1}`;
}

/** A random unprivileged port, for daemons that must be told a port before they start. */
export function unprivilegedPort(): number {
  return 20_000 + Math.floor(Math.random() * 30_000);
}
