/** Reads an intent file: the proto3 JSON form of svcbgp.v1.NodeIntent, written as JSON or YAML. */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { parse as parseYaml } from "yaml";
import { NodeIntentSchema, type NodeIntent } from "@svcbgp/api";
import { validateIntent, type IntentIssue, type ValidateOptions } from "./validate.js";

export type ParseResult = { ok: true; intent: NodeIntent } | { ok: false; issues: IntentIssue[] };

const node = { kind: "node" as const };

function decodeIssue(err: unknown): IntentIssue {
  const message = err instanceof Error ? err.message : String(err);
  // protobuf-es: 'cannot decode field svcbgp.v1.Peer.hold_time from JSON: expected number (uint32), got "abc"'
  const field = /^cannot decode (?:field|message) (\S+) from JSON: (.*)$/s.exec(message);
  return field ? { field: field[1], reason: field[2], item: node } : { field: "(intent)", reason: message, item: node };
}

export function parseIntentText(text: string, fileName: string, options: ValidateOptions = {}): ParseResult {
  let data: unknown;
  try {
    data = fileName.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return { ok: false, issues: [{ field: "(file)", reason: `not valid ${fileName.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`, item: node }] };
  }
  if (data === null || data === undefined) return { ok: false, issues: [{ field: "(file)", reason: "the file is empty", item: node }] };
  if (typeof data !== "object" || Array.isArray(data)) {
    return { ok: false, issues: [{ field: "(file)", reason: "expected an object (the proto3 JSON form of svcbgp.v1.NodeIntent)", item: node }] };
  }
  let intent: NodeIntent;
  try {
    intent = fromJson(NodeIntentSchema, data as JsonValue);
  } catch (err) {
    return { ok: false, issues: [decodeIssue(err)] };
  }
  const issues = validateIntent(intent, options);
  return issues.length ? { ok: false, issues } : { ok: true, intent };
}
