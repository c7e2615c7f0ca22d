#!/usr/bin/env node
/**
 * Compiles the TCP-MD5 addon (tcp_md5.c; it also sets GTSM's TTL options) into libs/bgp/dist/native/tcp_md5.node
 * with plain cc — no node-gyp, which would download Node.js's headers. Run by
 * the root `npm run build` after tsc.
 *
 * Headers: $SVCBGP_NODE_API_HEADERS, else the running node's own
 * (<prefix>/include/node, as in Node.js's tarballs and official images), else
 * /usr/include/node (Debian's libnode-dev). Node-API is ABI-stable, so headers
 * of any Node.js with Node-API 8 serve every later Node.js.
 *
 * Where there is no compiler, no headers or not Linux, prints a warning and
 * exits 0: the build goes on, and sessions with a password or ttlSecurity then
 * refuse to start ("TCP-MD5 unavailable: ...", "GTSM unavailable: ..."). SVCBGP_REQUIRE_TCP_MD5=1 makes that an
 * error (CI, the image build).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "tcp_md5.c");
const outDir = join(here, "..", "dist", "native");
const output = join(outDir, "tcp_md5.node");
const required = process.env.SVCBGP_REQUIRE_TCP_MD5 === "1";

function skip(reason) {
  const text = `TCP-MD5 addon not built: ${reason}. BGP peers with a password or ttlSecurity (GTSM) will be refused (install gcc and libc6-dev, then npm run build).`;
  if (required) {
    process.stderr.write(`error: ${text} (SVCBGP_REQUIRE_TCP_MD5=1)\n`);
    process.exit(1);
  }
  process.stderr.write(`warning: ${text}\n`);
  process.exit(0);
}

function headerDirs() {
  const dirs = [];
  if (process.env.SVCBGP_NODE_API_HEADERS) dirs.push(process.env.SVCBGP_NODE_API_HEADERS);
  dirs.push(join(dirname(dirname(realpathSync(process.execPath))), "include", "node"));
  dirs.push("/usr/include/node", "/usr/local/include/node");
  return [...new Set(dirs)];
}

function findCompiler() {
  for (const cc of [process.env.CC, "cc", "gcc", "clang"].filter(Boolean)) {
    try {
      execFileSync(cc, ["--version"], { stdio: "ignore" });
      return cc;
    } catch {
      // next
    }
  }
  return undefined;
}

if (process.platform !== "linux") skip(`TCP_MD5SIG is Linux-only (this is ${process.platform})`);
const headers = headerDirs().find((dir) => existsSync(join(dir, "node_api.h")) && existsSync(join(dir, "js_native_api.h")));
if (!headers) skip(`no Node-API headers (node_api.h) in ${headerDirs().join(", ")}`);
const cc = findCompiler();
if (!cc) skip("no C compiler (cc, gcc or clang) on PATH");

// Up to date: nothing to do (keeps `npm run build` quick).
if (existsSync(output) && statSync(output).mtimeMs >= Math.max(statSync(source).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs)) process.exit(0);

mkdirSync(outDir, { recursive: true });
const partial = `${output}.${process.pid}.tmp`;
try {
  execFileSync(cc, ["-O2", "-Wall", "-Wextra", "-std=gnu11", "-fPIC", "-shared", "-fvisibility=hidden", "-I", headers, "-o", partial, source], {
    stdio: ["ignore", "inherit", "pipe"],
  });
} catch (err) {
  rmSync(partial, { force: true });
  const stderr = err.stderr ? String(err.stderr).trim() : err.message;
  skip(`${cc} failed:\n${stderr}\n`);
}
renameSync(partial, output);
process.stdout.write(`built ${output} (${cc}, headers ${headers})\n`);
