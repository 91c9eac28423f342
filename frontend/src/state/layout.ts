// Automatic layout with elkjs: layered, left to right, following the ports' order.

import ELK from "elkjs/lib/elk.bundled.js";

import { movedNodes } from "./edits";
import { portsOf } from "./ports";
import type { FlowDocument, Position } from "./types";

const NODE_WIDTH = 240;
const HEADER_HEIGHT = 56;
const PORT_HEIGHT = 22;

export function nodeHeight(portCount: number): number {
  return HEADER_HEIGHT + Math.max(1, portCount) * PORT_HEIGHT;
}

export async function layoutPositions(doc: FlowDocument): Promise<Map<string, Position>> {
  const ids = new Set(doc.nodes.map((node) => node.id));
  const graph = await new ELK().layout({
    id: "flow",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.spacing.nodeNode": "40",
      "elk.layered.spacing.nodeNodeBetweenLayers": "80",
    },
    children: doc.nodes.map((node) => ({
      id: node.id,
      width: NODE_WIDTH,
      height: nodeHeight(portsOf(node).length),
    })),
    edges: doc.nodes.flatMap((node) =>
      portsOf(node)
        .filter((port) => port.target !== null && ids.has(port.target))
        .map((port) => ({ id: `${node.id}:${port.key}`, sources: [node.id], targets: [port.target as string] })),
    ),
  });
  return new Map(
    (graph.children ?? []).map((child) => [child.id, { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) }]),
  );
}

export async function autoLayout(doc: FlowDocument): Promise<FlowDocument> {
  return movedNodes(doc, await layoutPositions(doc));
}
