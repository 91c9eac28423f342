// The document as the canvas draws it: a React Flow node per flow node, an edge per connected
// port. The canvas never owns the flow; every change goes back through the edits in edits.ts.

import type { Edge, Node } from "@xyflow/react";

import { portsOf, type Port } from "./ports";
import { NO_TRAIL, type Trail } from "./preview";
import type { PlacedProblems } from "./problems";
import type { FlowDocument, FlowNodeDoc, Position, Problem } from "./types";

export interface FlowNodeData extends Record<string, unknown> {
  doc: FlowNodeDoc;
  ports: Port[];
  problems: Problem[];
  isStart: boolean;
  /** In the preview: the node the conversation is at, and the nodes it went through. */
  active: boolean;
  visited: boolean;
}

export type CanvasNode = Node<FlowNodeData, "flow">;

const GRID_COLUMNS = 4;
const GRID_X = 300;
const GRID_Y = 220;

/** Where a node without a position of its own is drawn; it is not written to the document
 * until the node is moved, so opening a flow never changes it. */
export function fallbackPosition(index: number): Position {
  return { x: (index % GRID_COLUMNS) * GRID_X, y: Math.floor(index / GRID_COLUMNS) * GRID_Y };
}

export function edgeId(source: string, portKey: string): string {
  return `${source}:${portKey}`;
}

export function toCanvasNodes(
  doc: FlowDocument,
  problems: PlacedProblems,
  selected: ReadonlySet<string>,
  trail: Trail = NO_TRAIL,
): CanvasNode[] {
  return doc.nodes.map((node, index) => ({
    id: node.id,
    type: "flow",
    position: node.position ?? fallbackPosition(index),
    selected: selected.has(node.id),
    data: {
      doc: node,
      ports: portsOf(node),
      problems: problems.byNode.get(node.id) ?? [],
      isStart: doc.start === node.id,
      active: trail.current === node.id,
      visited: trail.visited.has(node.id),
    },
  }));
}

/** Edges for the ports that name an existing node; a port naming a missing node shows as a
 * problem once saved, not as an edge into nothing. */
export function toCanvasEdges(doc: FlowDocument, selected: ReadonlySet<string> = new Set()): Edge[] {
  const ids = new Set(doc.nodes.map((node) => node.id));
  return doc.nodes.flatMap((node) =>
    portsOf(node)
      .filter((port) => port.target !== null && ids.has(port.target))
      .map((port) => {
        const id = edgeId(node.id, port.key);
        return {
          id,
          source: node.id,
          sourceHandle: port.key,
          target: port.target as string,
          targetHandle: "in",
          selected: selected.has(id),
        };
      }),
  );
}
