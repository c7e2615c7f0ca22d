/**
 * Multi-document YAML manifests (what `kubectl apply -f` and `calicoctl
 * apply -f` take): every document becomes a plain JSON object; `kind: List`
 * (and typed lists such as ServiceList) is
 * flattened into its items. A bad document is reported with file and line
 * and skipped, so one typo does not hide the rest of a file. Objects of any
 * kind are returned; choosing the kinds to follow is the caller's business.
 */
import { isNode, LineCounter, parseAllDocuments, type Document } from "yaml";

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
  readonly message: string;
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

export function parseManifests(text: string, fileName: string): ParsedManifests {
  const lineCounter = new LineCounter();
  const documents: ManifestDocument[] = [];
  const errors: ManifestError[] = [];
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lineCounter.linePos(offset).line);

  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  // A stream with nothing but comments is an EmptyStream (an array with no documents).
  const docs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];

  const add = (value: unknown, line: number) => {
    if (!isMapping(value)) {
      errors.push({ file: fileName, line, message: `expected a mapping (a Kubernetes object), got ${Array.isArray(value) ? "a list" : typeof value}` });
      return;
    }
    const problem = shapeProblem(value);
    if (problem) errors.push({ file: fileName, line, message: problem });
    else documents.push({ object: value, file: fileName, line });
  };

  for (const doc of docs) {
    const docLine = lineOf(startOffset(doc.contents) ?? doc.range[0]);
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        errors.push({ file: fileName, line: error.linePos?.[0].line ?? docLine, message: error.message.split("\n")[0] });
      }
      continue;
    }
    if (doc.contents === null) continue; // an empty document, e.g. a trailing "---"
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    // `kind: List` (kubectl get -o yaml) and typed lists such as ServiceList.
    if (isMapping(value) && typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items)) {
      value.items.forEach((item: unknown, index: number) => add(item, lineOf(startOffset(doc.getIn(["items", index], true)) ?? docLine)));
      continue;
    }
    add(value, docLine);
  }
  return { objects: documents.map((d) => d.object), documents, errors };
}
