/** Dotted paths ("inference.latencyP99Ms") into plain JSON-like documents: the spec, answers, overrides. */

/** A path that cannot be set: an existing value in the way is not an object, or a key is not a field name. */
export class PathError extends Error {
  constructor(
    readonly path: string,
    readonly key: string,
    reason: string,
  ) {
    super(`${key} ${reason}`);
  }
}

// keys that would reach an object's prototype instead of a field of the document
const FORBIDDEN = new Set(["__proto__", "prototype", "constructor"]);

/** The value at a path, or undefined where any step is missing or not an object (own fields only). */
export function getPath(doc: unknown, path: string): unknown {
  let node = doc;
  for (const key of path.split(".")) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Sets the value at a path, creating missing (or null) objects on the way. */
export function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = doc;
  keys.forEach((key, i) => {
    if (FORBIDDEN.has(key)) throw new PathError(path, key, "is not allowed in a path");
    if (i === keys.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (typeof next !== "object" || Array.isArray(next))
      throw new PathError(path, key, "is not an object in the spec");
    node = node[key] as Record<string, unknown>;
  });
}
