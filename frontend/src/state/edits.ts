// Edits of a flow document. Each returns a new document and leaves its argument untouched, so
// that the undo history can keep earlier documents as they were.

import { getIn, setIn } from "./paths";
import { findPort, portsOf } from "./ports";
import type { FlowDocument, FlowNodeDoc, NodeDraft, Position } from "./types";

export function nodeById(doc: FlowDocument, id: string): FlowNodeDoc | undefined {
  return doc.nodes.find((node) => node.id === id);
}

function mapNodes(doc: FlowDocument, change: (node: FlowNodeDoc) => FlowNodeDoc): FlowDocument {
  return { ...doc, nodes: doc.nodes.map(change) };
}

export function replaceNode(doc: FlowDocument, node: FlowNodeDoc): FlowDocument {
  return mapNodes(doc, (current) => (current.id === node.id ? node : current));
}

/** Points the port `portKey` of `source` at `target`; an unknown node or port changes nothing. */
export function connect(
  doc: FlowDocument,
  source: string,
  portKey: string,
  target: string | null,
): FlowDocument {
  const node = nodeById(doc, source);
  const port = node && findPort(node, portKey);
  if (!node || !port || (target !== null && !nodeById(doc, target))) return doc;
  if (port.target === target && getIn(node, port.path) !== undefined) return doc;
  return replaceNode(doc, setIn(node, port.path, target));
}

/** Ends the flow at that port (null), which is what an unconnected port means. */
export function disconnect(doc: FlowDocument, source: string, portKey: string): FlowDocument {
  return connect(doc, source, portKey, null);
}

function withoutLinksTo(node: FlowNodeDoc, gone: ReadonlySet<string>): FlowNodeDoc {
  return portsOf(node)
    .filter((port) => port.target !== null && gone.has(port.target))
    .reduce((current, port) => setIn(current, port.path, null), node);
}

/** Removes the nodes, and every port that led to them; the start goes too if it was one. */
export function deleteNodes(doc: FlowDocument, ids: Iterable<string>): FlowDocument {
  const gone = new Set(ids);
  if (gone.size === 0) return doc;
  const nodes = doc.nodes
    .filter((node) => !gone.has(node.id))
    .map((node) => withoutLinksTo(node, gone));
  const start = doc.start && gone.has(doc.start) ? null : doc.start;
  return { ...doc, ...("start" in doc ? { start } : {}), nodes };
}

export function setStart(doc: FlowDocument, id: string | null): FlowDocument {
  return { ...doc, start: id };
}

export function moveNode(doc: FlowDocument, id: string, position: Position): FlowDocument {
  const node = nodeById(doc, id);
  if (!node) return doc;
  const current = node.position;
  if (current && current.x === position.x && current.y === position.y) return doc;
  return replaceNode(doc, { ...node, position: { x: position.x, y: position.y } });
}

export function movedNodes(doc: FlowDocument, positions: ReadonlyMap<string, Position>): FlowDocument {
  return [...positions].reduce((current, [id, position]) => moveNode(current, id, position), doc);
}

/** An id of the form prefix + number that none of `taken` is. */
export function freshId(prefix: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let number = used.size + 1; ; number += 1) {
    const candidate = `${prefix}${number}`;
    if (!used.has(candidate)) return candidate;
  }
}

export function addNode(doc: FlowDocument, draft: NodeDraft): {
  doc: FlowDocument;
  id: string;
} {
  const id = freshId("n", doc.nodes.map((node) => node.id));
  const node = { id, ...draft } as FlowNodeDoc;
  const start = doc.nodes.length === 0 && !doc.start ? { start: id } : {};
  return { doc: { ...doc, ...start, nodes: [...doc.nodes, node] }, id };
}

/** What Ctrl+C keeps: copies of the nodes, in document order. */
export interface Clip {
  nodes: FlowNodeDoc[];
}

export function copyNodes(doc: FlowDocument, ids: Iterable<string>): Clip {
  const wanted = new Set(ids);
  return { nodes: doc.nodes.filter((node) => wanted.has(node.id)).map((node) => structuredClone(node)) };
}

/** Adds the clip's nodes under new ids, moved by `offset`. Ports between pasted nodes follow
 * the copies; ports to other nodes keep them if they still exist and end the flow otherwise. */
export function pasteNodes(
  doc: FlowDocument,
  clip: Clip,
  offset: Position,
): { doc: FlowDocument; ids: string[] } {
  const taken = doc.nodes.map((node) => node.id);
  const renamed = new Map<string, string>();
  for (const node of clip.nodes) {
    const id = freshId("n", [...taken, ...renamed.values()]);
    renamed.set(node.id, id);
  }
  const existing = new Set(taken);
  const relink = (target: string | null): string | null =>
    target === null ? null : renamed.get(target) ?? (existing.has(target) ? target : null);
  const pasted = clip.nodes.map((original, index) => {
    const moved: FlowNodeDoc = {
      ...structuredClone(original),
      id: renamed.get(original.id) as string,
      position: {
        x: (original.position?.x ?? index * 40) + offset.x,
        y: (original.position?.y ?? index * 40) + offset.y,
      },
    };
    return portsOf(moved).reduce(
      (node, port) =>
        getIn(node, port.path) === undefined ? node : setIn(node, port.path, relink(port.target)),
      moved,
    );
  });
  return { doc: { ...doc, nodes: [...doc.nodes, ...pasted] }, ids: pasted.map((node) => node.id) };
}
