/**
 * Multi-document YAML manifests (what `kubectl apply -f` and `calicoctl
 * apply -f` take), and the one YAML manifest parser of the project: every
 * document becomes a plain JSON value; `kind: List` (and typed lists such as
 * ServiceList) is flattened into its items. A bad document is reported with
 * file and line and skipped, so one typo does not hide the rest of a file;
 * a caller that wants a file whole or not at all (the watcher's manifests
 * source) treats any error as the file's. Objects of any kind are returned;
 * choosing the kinds to follow is the caller's business.
 */
import { isNode, LineCounter, parseAllDocuments, type Document } from "yaml";
import { fastParseManifestValues } from "./manifests-fast.js";

export type ManifestObject = Record<string, unknown>;

export interface ManifestDocument {
  readonly object: ManifestObject;
  readonly file: string;
  /** 1-based line the object starts on. */
  readonly line: number;
}

export interface ManifestError {
  readonly file: string;
  /** 1-based line of the problem. */
  readonly line: number;
  /** 1-based column, for YAML syntax errors. */
  readonly column?: number;
  readonly message: string;
}

/** One document's value (or one item of a `kind: List` document), before any check of its shape. */
export interface ManifestValue {
  readonly value: unknown;
  readonly file: string;
  /** 1-based line the value starts on. */
  readonly line: number;
  /** Index in the items of the List document it came from. */
  readonly item?: number;
}

export interface ParsedManifestValues {
  /** Values of the documents that parsed, in file order; empty documents are left out. */
  readonly values: ManifestValue[];
  /** YAML problems (syntax, duplicate keys, alias bombs); each one's document is left out. */
  readonly errors: ManifestError[];
}

export interface ParsedManifests {
  /** The objects in file order. */
  readonly objects: ManifestObject[];
  /** The same objects with where they came from. */
  readonly documents: ManifestDocument[];
  readonly errors: ManifestError[];
}

function isMapping(value: unknown): value is ManifestObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Why an object cannot be used as a Kubernetes resource, or undefined. */
function shapeProblem(object: ManifestObject): string | undefined {
  if (typeof object.kind !== "string" || object.kind === "") return "document has no kind";
  if (typeof object.apiVersion !== "string" || object.apiVersion === "") return `${object.kind} has no apiVersion`;
  const metadata = object.metadata;
  if (!isMapping(metadata) || typeof metadata.name !== "string" || metadata.name === "") return `${object.kind} has no metadata.name`;
  return undefined;
}

function startOffset(node: unknown): number | undefined {
  return isNode(node) && node.range ? node.range[0] : undefined;
}

/**
 * The YAML layer: every document of a multi-document stream as a plain
 * value, `kind: List` flattened into its items, each with its line. A
 * document with a YAML error is reported and left out; the others are kept.
 *
 * Plain block YAML (what tools write) takes a fast path
 * (manifests-fast.ts) giving the same result some 20 times faster; anything
 * else, errors included, goes through the `yaml` package.
 */
export function parseManifestValues(text: string, fileName: string): ParsedManifestValues {
  return fastParseManifestValues(text, fileName) ?? parseManifestValuesFully(text, fileName);
}

/** parseManifestValues without the fast path: the `yaml` package's reading, which the fast path must match. */
export function parseManifestValuesFully(text: string, fileName: string): ParsedManifestValues {
  const lineCounter = new LineCounter();
  const values: ManifestValue[] = [];
  const errors: ManifestError[] = [];
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lineCounter.linePos(offset).line);

  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  // A stream with nothing but comments is an EmptyStream (an array with no documents).
  const docs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];

  for (const doc of docs) {
    const docLine = lineOf(startOffset(doc.contents) ?? doc.range[0]);
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const at = lineCounter.linePos(error.pos[0]);
        errors.push({ file: fileName, line: at.line, column: at.col, message: error.message.split("\n")[0] });
      }
      continue;
    }
    if (doc.contents === null) continue; // an empty document, e.g. a trailing "---"
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // e.g. an alias bomb ("billion laughs") exceeding maxAliasCount
      errors.push({ file: fileName, line: docLine, message: err instanceof Error ? err.message : String(err) });
      continue;
    }
    if (value === null || value === undefined) continue;
    // `kind: List` (kubectl get -o yaml) and typed lists such as ServiceList.
    if (isMapping(value) && typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items)) {
      value.items.forEach((item: unknown, index: number) =>
        values.push({ value: item, file: fileName, line: lineOf(startOffset(doc.getIn(["items", index], true)) ?? docLine), item: index }),
      );
      continue;
    }
    values.push({ value, file: fileName, line: docLine });
  }
  return { values, errors };
}

/**
 * Kubernetes objects from a multi-document stream (parseManifestValues, then
 * each value must be a mapping with kind, apiVersion and metadata.name).
 * Every bad document is reported and skipped.
 */
export function parseManifests(text: string, fileName: string): ParsedManifests {
  const { values, errors: yamlErrors } = parseManifestValues(text, fileName);
  const documents: ManifestDocument[] = [];
  const errors: ManifestError[] = [...yamlErrors];
  for (const { value, line } of values) {
    if (!isMapping(value)) {
      errors.push({ file: fileName, line, message: `expected a mapping (a Kubernetes object), got ${Array.isArray(value) ? "a list" : typeof value}` });
      continue;
    }
    const problem = shapeProblem(value);
    if (problem) errors.push({ file: fileName, line, message: problem });
    else documents.push({ object: value, file: fileName, line });
  }
  errors.sort((a, b) => a.line - b.line);
  return { objects: documents.map((d) => d.object), documents, errors };
}
