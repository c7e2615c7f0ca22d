import { describe, expect, it } from "vitest";
import { addLogLevelOption, addTlsOptions, argParser, checkedArg, cliProgram, parseProgram, tlsFlagFiles, type TlsFlags } from "./cli-options.js";

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stderr = "";
  const program = cliProgram("t", "test program", { stdout: () => {}, stderr: (text) => (stderr += text) })
    .option("--count <n>", "a number", argParser((v) => {
      if (!/^\d+$/.test(v)) throw new Error(`"${v}" is not a count`);
      return Number(v);
    }))
    .option("--name <text>", "checked text", checkedArg((v) => {
      if (v.includes(" ")) throw new Error("no spaces");
    }));
  addTlsOptions(program, { cert: "cert help", key: "key help", ca: "ca help" });
  addLogLevelOption(program, env);
  const result = parseProgram(program, argv, () => {
    const flags = program.opts<TlsFlags & { count?: number; name?: string; logLevel: string }>();
    return { count: flags.count, name: flags.name, tls: tlsFlagFiles(program, flags), logLevel: flags.logLevel };
  });
  return { result, stderr, help: program.helpInformation() };
}

describe("cli options", () => {
  it("parses and checks arguments, keeping checked text as written", () => {
    expect(run(["--count", "3", "--name", "x", "--tls-cert", "c", "--tls-key", "k"]).result).toEqual({
      config: { count: 3, name: "x", tls: { cert: "c", key: "k", ca: undefined }, logLevel: "info" },
    });
  });

  it("turns a parser's message into a usage error and an exit code", () => {
    const { result, stderr } = run(["--count", "many"]);
    expect(result).toEqual({ exitCode: 1 });
    expect(stderr).toContain('"many" is not a count');
    expect(run(["--name", "a b"]).stderr).toContain("no spaces");
  });

  it("wants a certificate and its key together", () => {
    const { result, stderr } = run(["--tls-cert", "c"]);
    expect(result).toEqual({ exitCode: 1 });
    expect(stderr).toContain("--tls-cert and --tls-key go together");
  });

  it("takes the log level from SVCBGP_LOG_LEVEL and checks it", () => {
    expect(run([], { SVCBGP_LOG_LEVEL: "debug" }).result).toMatchObject({ config: { logLevel: "debug" } });
    expect(run(["--log-level", "loud"]).stderr).toMatch(/Allowed choices are trace, debug, info, warn, error, fatal/);
  });

  it("lists the shared flags in help, and help is an exit code, not an exit", () => {
    const { help } = run([]);
    expect(help).toMatch(/--tls-cert <file>\s+cert help/);
    expect(help).toMatch(/--log-level <level>/);
    expect(run(["--help"]).result).toEqual({ exitCode: 0 });
  });
});
