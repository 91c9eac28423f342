// The shapes the editor works with: the flow document (as flows/format.py defines it) and the
// editor API's answers. Node fields stay `unknown`: the document is edited as plain JSON so that
// whatever the editor does not know about survives a round trip untouched.

export type PathPart = string | number;
export type Path = readonly PathPart[];

export interface Position {
  x: number;
  y: number;
}

export interface FlowNodeDoc {
  id: string;
  type: string;
  name?: string | null;
  position?: Position | null;
  [field: string]: unknown;
}

/** A node before it has an id. */
export interface NodeDraft {
  type: string;
  [field: string]: unknown;
}

export interface FlowDocument {
  version: number;
  start?: string | null;
  nodes: FlowNodeDoc[];
  [field: string]: unknown;
}

export interface Problem {
  node_id: string | null;
  path: string;
  message: string;
}

export interface FlowSummary {
  ref: string;
  name: string;
  kind: string;
}

export interface CatalogField {
  var_ns: string;
  name: string;
  var_type: string;
}

export interface Catalog {
  tags: { tag_ns: string; name: string }[];
  user_fields: CatalogField[];
  bot_fields: CatalogField[];
  sub_flows: { sub_flow_ns: string; name: string }[];
  node_types: Record<string, unknown>;
}

export interface EditorPayload {
  flow: FlowSummary;
  draft: FlowDocument;
  revision: number;
  published_version: number | null;
  problems: Problem[];
  catalog: Catalog;
  flows: FlowSummary[];
}

export interface VersionSummary {
  number: number;
  published_at: string;
  published_by: string | null;
  note: string | null;
}

export interface Change {
  node_id: string | null;
  change: "added" | "removed" | "changed";
  details: string[];
}

export interface Diff {
  changes: Change[];
  start: string[];
  triggers: string[];
}

/** A button or quick reply of a bot's message in the preview; `payload` when pressing it
 * answers the bot, `url` when it opens a page. */
export interface PreviewChoice {
  type?: string;
  title: string;
  payload?: string;
  url?: string;
}

/** A message of the preview's conversation, as the web chat shows it. */
export interface PreviewItem {
  id: string;
  direction: "in" | "out" | "agent";
  at: string;
  message: {
    type?: string;
    text?: string;
    url?: string;
    caption?: string;
    buttons?: PreviewChoice[];
    quick_replies?: PreviewChoice[];
    cards?: { title?: string; subtitle?: string; image_url?: string; buttons?: PreviewChoice[] }[];
  };
}

export interface PreviewState {
  messages: PreviewItem[];
  /** The node of the draft the conversation waits at (a question, a choice, a delay). */
  waiting_at: string | null;
  status: string | null;
  /** The nodes of the draft the last call ran, in order. */
  executed: string[];
}

export interface PreviewSaid {
  text?: string;
  payload?: string;
  title?: string;
}
