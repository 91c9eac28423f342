// What the preview panel draws from the server's answers: the node to highlight on the canvas,
// the nodes the conversation went through, and what the subscriber may press.

import type { PreviewChoice, PreviewItem, PreviewState } from "./types";

export interface Trail {
  /** The node the conversation is at: waiting there, or the last one run. */
  current: string | null;
  /** Every node of the draft the conversation has run since the preview started. */
  visited: ReadonlySet<string>;
}

export const NO_TRAIL: Trail = { current: null, visited: new Set() };

/** The trail after an answer of the server; a call that ran nothing (a poll) keeps the current
 * node unless the conversation now waits elsewhere. */
export function followTrail(trail: Trail, state: PreviewState, restarted = false): Trail {
  const before = restarted ? NO_TRAIL : trail;
  const last = state.executed.length > 0 ? state.executed[state.executed.length - 1] : null;
  const current = state.waiting_at ?? last ?? before.current;
  return { current, visited: new Set([...before.visited, ...state.executed]) };
}

/** What the subscriber may press now: the quick replies of the last message, and the buttons
 * of every message that answer the bot (not those that open a page). */
export function pressable(choices: PreviewChoice[] | undefined): PreviewChoice[] {
  return (choices ?? []).filter((choice) => typeof choice.payload === "string" && choice.payload !== "");
}

export function quickReplies(messages: PreviewItem[]): PreviewChoice[] {
  const last = messages[messages.length - 1];
  return last && last.direction !== "in" ? pressable(last.message.quick_replies) : [];
}
