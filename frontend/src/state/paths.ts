// Immutable reads and writes at a path inside plain JSON values.

import type { Path, PathPart } from "./types";

export function getIn(value: unknown, path: Path): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PathPart, unknown>)[part];
  }
  return current;
}

/** A copy of `value` with `path` set to `next`; the containers along the path are copied,
 * everything else is shared. Missing containers are made (an array for a numeric part). */
export function setIn<T>(value: T, path: Path, next: unknown): T {
  if (path.length === 0) return next as T;
  const [head, ...rest] = path;
  const container: unknown =
    value !== null && typeof value === "object" ? value : typeof head === "number" ? [] : {};
  const child = (container as Record<PathPart, unknown>)[head];
  const updated = setIn(child, rest, next);
  if (Array.isArray(container)) {
    const copy = [...container];
    copy[head as number] = updated;
    return copy as T;
  }
  return { ...(container as object), [head]: updated } as T;
}

/** A copy of `value` without the key at `path` (an array item is spliced out). */
export function removeIn<T>(value: T, path: Path): T {
  if (path.length === 0) return value;
  const parent = getIn(value, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) {
    return setIn(value, path.slice(0, -1), parent.filter((_, index) => index !== last));
  }
  if (parent === null || typeof parent !== "object" || !(last in parent)) return value;
  const { [last]: _removed, ...kept } = parent as Record<PathPart, unknown>;
  return setIn(value, path.slice(0, -1), kept);
}

/** How a path is written in problems and handle ids: "messages.0.text". */
export function pathKey(path: Path): string {
  return path.join(".");
}

export function parsePathKey(key: string): Path {
  return key.split(".").map((part) => (/^[0-9]+$/.test(part) ? Number(part) : part));
}
