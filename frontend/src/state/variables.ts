// The {{variables}} a text can hold, as runtime/variables.py makes them: the subscriber's
// details, each user field by its template-safe name, each bot field as bot.<name>.

import type { Catalog } from "./types";

export const SUBSCRIBER_VARIABLES = [
  "first_name",
  "last_name",
  "name",
  "email",
  "phone",
  "gender",
  "language",
  "locale",
  "timezone",
  "user_id",
  "user_ns",
  "last_input",
] as const;

export interface VariableGroup {
  label: string;
  names: string[];
}

/** A field's name as templates write it: "Favourite colour" is favourite_colour. */
export function templateName(name: string): string {
  return name
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toLowerCase();
}

export function variableGroups(catalog: Pick<Catalog, "user_fields" | "bot_fields">): VariableGroup[] {
  return [
    { label: "Subscriber", names: [...SUBSCRIBER_VARIABLES] },
    { label: "User fields", names: catalog.user_fields.map((field) => templateName(field.name)) },
    { label: "Bot fields", names: catalog.bot_fields.map((field) => `bot.${templateName(field.name)}`) },
  ].filter((group) => group.names.length > 0);
}

export function placeholder(name: string): string {
  return `{{${name}}}`;
}

/** `text` with the placeholder put at the caret (or replacing the selection). */
export function insertAt(text: string, start: number, end: number, name: string): {
  text: string;
  caret: number;
} {
  const inserted = placeholder(name);
  return { text: text.slice(0, start) + inserted + text.slice(end), caret: start + inserted.length };
}
