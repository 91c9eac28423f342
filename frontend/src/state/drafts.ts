// What a new node, message, action, condition or button starts as: the smallest value of its
// kind, with the catalog's first tag, field or sub flow where one is needed.

import type { Catalog, NodeDraft } from "./types";

type Obj = Record<string, unknown>;
export type DraftCatalog = Pick<Catalog, "tags" | "user_fields" | "bot_fields" | "sub_flows">;

const first = <T, K extends keyof T>(items: T[], key: K): T[K] | "" => items[0]?.[key] ?? "";

export const NODE_LABELS: Record<string, string> = {
  send_message: "Send message",
  user_input: "User input",
  action: "Action",
  condition: "Condition",
  randomizer: "Randomizer",
  delay: "Delay",
  go_to: "Go to",
  start_flow: "Start flow",
  return: "Return",
  whatsapp_template: "WhatsApp template",
  products: "Products",
  cart: "Cart",
  checkout: "Checkout",
  knowledge_answer: "Knowledge answer",
};

export function newNode(type: string, catalog: DraftCatalog): NodeDraft {
  const fields: Record<string, () => Obj> = {
    send_message: () => ({ messages: [newMessage("text")], next: null }),
    user_input: () => ({ question: "What would you like to tell us?", input_type: "text", next: null }),
    action: () => ({ actions: [newAction("add_tag", catalog)], next: null }),
    condition: () => ({
      branches: [{ id: "b1", match: "all", conditions: [newCondition("tag", catalog)], next: null }],
      else: null,
    }),
    randomizer: () => ({
      branches: [
        { id: "a", weight: 50, next: null },
        { id: "b", weight: 50, next: null },
      ],
    }),
    delay: () => ({ minutes: 60, next: null }),
    go_to: () => ({ node: null }),
    start_flow: () => ({ sub_flow_ns: first(catalog.sub_flows, "sub_flow_ns"), next: null }),
    return: () => ({}),
    whatsapp_template: () => ({ template_name: "", language: "en_US", next: null }),
    products: () => ({ added: null, empty: null }),
    cart: () => ({ checkout: null, more: null, empty: null }),
    checkout: () => ({ next: null, failed: null }),
    knowledge_answer: () => ({ question: "{{last_input}}", next: null, no_answer: null }),
  };
  return { type, ...(fields[type]?.() ?? {}) };
}

export const MESSAGE_TYPES = ["text", "image", "file", "audio", "video", "cards"] as const;

export function newMessage(type: string): Obj {
  if (type === "text") return { type, text: "Hello {{first_name}}!" };
  if (type === "cards") return { type, cards: [{ title: "Card", buttons: [] }] };
  return { type, url: "https://" };
}

/** A user input's question as messages (to add buttons or media), from its plain text. */
export function questionAsMessages(question: unknown): Obj[] {
  if (Array.isArray(question)) return question as Obj[];
  return [{ type: "text", text: typeof question === "string" ? question : "" }];
}

/** A user input's question as plain text: the text of its first text message. */
export function questionAsText(question: unknown): string {
  if (typeof question === "string") return question;
  const messages = Array.isArray(question) ? (question as Obj[]) : [];
  const first = messages.find((message) => message.type === "text" && typeof message.text === "string");
  return first ? (first.text as string) : "";
}

export const ACTION_TYPES = [
  "add_tag",
  "remove_tag",
  "set_field",
  "clear_field",
  "set_bot_field",
  "subscribe",
  "unsubscribe",
  "pause_bot",
  "log_event",
  "http_request",
  "notify_webhook",
  "open_ticket",
  "call_app",
] as const;

export function newAction(type: string, catalog: DraftCatalog): Obj {
  const tag = first(catalog.tags, "tag_ns");
  const field = first(catalog.user_fields, "var_ns");
  const botField = first(catalog.bot_fields, "var_ns");
  const actions: Record<string, Obj> = {
    add_tag: { tag_ns: tag },
    remove_tag: { tag_ns: tag },
    set_field: { var_ns: field, value: "" },
    clear_field: { var_ns: field },
    set_bot_field: { var_ns: botField, value: "" },
    pause_bot: { minutes: 60 },
    log_event: { event_name: "" },
    http_request: { method: "GET", url: "https://", on_error: null },
    notify_webhook: { url: "https://" },
    open_ticket: { list_name: "", title: "" },
    call_app: { app_ns: "", action: "", on_error: null },
  };
  return { type, ...(actions[type] ?? {}) };
}

export const SUBJECT_TYPES = ["tag", "field", "bot_field", "channel", "time"] as const;

export function newCondition(subject: string, catalog: DraftCatalog): Obj {
  const conditions: Record<string, Obj> = {
    tag: { subject: { type: "tag", tag_ns: first(catalog.tags, "tag_ns") }, operator: "has" },
    field: {
      subject: { type: "field", var_ns: first(catalog.user_fields, "var_ns") },
      operator: "is_set",
    },
    bot_field: {
      subject: { type: "bot_field", var_ns: first(catalog.bot_fields, "var_ns") },
      operator: "is_set",
    },
    channel: { subject: { type: "channel" }, operator: "eq", value: "telegram" },
    time: { subject: { type: "time" }, operator: "between", value: { start: "09:00", end: "17:00" } },
  };
  return conditions[subject] ?? conditions.tag;
}

export const BUTTON_ACTION_TYPES = ["go_to", "url", "sub_flow", "phone"] as const;

export function newButtonAction(type: string, catalog: DraftCatalog): Obj {
  const actions: Record<string, Obj> = {
    go_to: { type, node: null },
    url: { type, url: "https://" },
    sub_flow: { type, sub_flow_ns: first(catalog.sub_flows, "sub_flow_ns") },
    phone: { type, phone: "" },
  };
  return actions[type] ?? actions.go_to;
}

// What a workflow, which runs with nobody to talk to, cannot hold (flows/document.py says why).
const NOT_IN_WORKFLOWS = new Set([
  "send_message",
  "user_input",
  "products",
  "cart",
  "whatsapp_template",
  "knowledge_answer",
]);

/** The node types the palette offers for a flow of `kind`: those the editor draws that the
 * server also lists (when it lists any), less what that kind of flow may not hold. */
export function paletteTypes(known: readonly string[], kind: string, served: Record<string, unknown>): string[] {
  const listed = Object.keys(served);
  return known.filter(
    (type) => (listed.length === 0 || listed.includes(type)) && !(kind === "workflow" && NOT_IN_WORKFLOWS.has(type)),
  );
}
