// The ports of each node type: the fields naming the node to go on with, in document order.
// This mirrors `ports()` of the node models in flows/format.py, so the canvas draws one output
// for each button, quick reply and branch exactly where the runtime would follow it.

import { getIn, pathKey } from "./paths";
import type { FlowNodeDoc, Path } from "./types";

export interface Port {
  /** The handle id on the canvas: the port's path inside the node, dotted. */
  key: string;
  path: Path;
  label: string;
  target: string | null;
}

type Obj = Record<string, unknown>;

function asList(value: unknown): Obj[] {
  return Array.isArray(value) ? value.filter((item): item is Obj => isObj(item)) : [];
}

function isObj(value: unknown): value is Obj {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function port(node: FlowNodeDoc, path: Path, label: string): Port {
  const target = getIn(node, path);
  return { key: pathKey(path), path, label, target: typeof target === "string" ? target : null };
}

function text(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

/** The buttons of a message, with their paths inside the message (text and cards messages). */
export function placedButtons(message: Obj): { path: Path; button: Obj }[] {
  if (message.type === "text") {
    return asList(message.buttons).map((button, index) => ({ path: ["buttons", index], button }));
  }
  if (message.type === "cards") {
    return asList(message.cards).flatMap((card, cardIndex) =>
      asList(card.buttons).map((button, index) => ({
        path: ["cards", cardIndex, "buttons", index],
        button,
      })),
    );
  }
  return [];
}

function messagePorts(node: FlowNodeDoc, under: string): Port[] {
  const messages = getIn(node, [under]);
  return asList(messages).flatMap((message, index) =>
    placedButtons(message)
      .filter(({ button }) => isObj(button.action) && button.action.type === "go_to")
      .map(({ path, button }) =>
        port(node, [under, index, ...path, "action", "node"], text(button.title, "button")),
      ),
  );
}

function listPorts(node: FlowNodeDoc, list: string, label: (item: Obj) => string): Port[] {
  return asList(node[list]).map((item, index) => port(node, [list, index, "next"], label(item)));
}

function named(node: FlowNodeDoc, ...fields: string[]): Port[] {
  return fields.map((field) => port(node, [field], field));
}

const PORTS: Record<string, (node: FlowNodeDoc) => Port[]> = {
  send_message: (node) => [
    ...messagePorts(node, "messages"),
    ...listPorts(node, "quick_replies", (reply) => text(reply.title, "quick reply")),
    ...named(node, "next"),
  ],
  action: (node) => [
    ...asList(node.actions).flatMap((action, index) =>
      action.type === "http_request" || action.type === "call_app"
        ? [port(node, ["actions", index, "on_error"], `${action.type} ${index + 1} failed`)]
        : [],
    ),
    ...named(node, "next"),
  ],
  condition: (node) => [
    ...listPorts(node, "branches", (branch) => text(branch.id, "branch")),
    ...named(node, "else"),
  ],
  user_input: (node) => [...messagePorts(node, "question"), ...named(node, "next", "invalid", "timeout")],
  randomizer: (node) =>
    listPorts(node, "branches", (branch) => `${text(branch.id, "branch")} (${String(branch.weight ?? "?")})`),
  delay: (node) => named(node, "next"),
  go_to: (node) => named(node, "node"),
  start_flow: (node) => [
    ...Object.keys(isObj(node.outputs) ? node.outputs : {}).map((name) =>
      port(node, ["outputs", name], `output ${name}`),
    ),
    ...named(node, "next"),
  ],
  return: () => [],
  whatsapp_template: (node) => named(node, "next"),
  products: (node) => named(node, "added", "empty"),
  cart: (node) => named(node, "checkout", "more", "empty"),
  checkout: (node) => named(node, "next", "failed"),
  knowledge_answer: (node) => named(node, "next", "no_answer"),
};

export const NODE_TYPES = Object.keys(PORTS);

export function portsOf(node: FlowNodeDoc): Port[] {
  return PORTS[node.type]?.(node) ?? [];
}

export function findPort(node: FlowNodeDoc, key: string): Port | undefined {
  return portsOf(node).find((candidate) => candidate.key === key);
}
