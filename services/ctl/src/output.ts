/**
 * Output formats: a table for people; proto3 JSON (and its YAML form) for
 * scripts, so `-o json` is exactly what any protobuf JSON parser reads.
 */
import { toJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import { stringify } from "yaml";

export type OutputFormat = "table" | "json" | "yaml";

export const OUTPUT_FORMATS: OutputFormat[] = ["table", "json", "yaml"];

export function toJsonValue<D extends DescMessage>(schema: D, message: MessageShape<D>): JsonValue {
  return toJson(schema, message, { alwaysEmitImplicit: false });
}

export function toJsonArray<D extends DescMessage>(schema: D, messages: MessageShape<D>[]): JsonValue[] {
  return messages.map((m) => toJsonValue(schema, m));
}

/** Serialises an already-JSON value in the chosen machine format. */
export function formatData(value: JsonValue, format: Exclude<OutputFormat, "table">): string {
  return format === "json" ? JSON.stringify(value, null, 2) + "\n" : stringify(value);
}
