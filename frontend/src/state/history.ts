// The undo history: documents before and after the present one.
//
// Typing into a field commits on every keystroke; commits that carry the same `group` one after
// the other (the same field of the same node) merge into one step, so that Ctrl+Z undoes the
// whole edit of that field instead of one character.

export interface History<T> {
  past: readonly T[];
  present: T;
  future: readonly T[];
  group: string | null;
}

export const UNDO_LIMIT = 200;

export function startHistory<T>(present: T): History<T> {
  return { past: [], present, future: [], group: null };
}

export function commit<T>(history: History<T>, next: T, group: string | null = null): History<T> {
  if (next === history.present) return history;
  if (group !== null && group === history.group) {
    return { ...history, present: next, future: [] };
  }
  return {
    past: [...history.past, history.present].slice(-UNDO_LIMIT),
    present: next,
    future: [],
    group,
  };
}

/** Changes the present without a step of its own (a node being dragged, after the step that
 * `checkpoint` made when the drag began). */
export function replacePresent<T>(history: History<T>, next: T): History<T> {
  return { ...history, present: next };
}

/** Makes a step now, even before anything changed, so that what follows undoes as one. */
export function checkpoint<T>(history: History<T>): History<T> {
  return {
    past: [...history.past, history.present].slice(-UNDO_LIMIT),
    present: history.present,
    future: [],
    group: null,
  };
}

export function undo<T>(history: History<T>): History<T> {
  if (history.past.length === 0) return history;
  return {
    past: history.past.slice(0, -1),
    present: history.past[history.past.length - 1],
    future: [history.present, ...history.future],
    group: null,
  };
}

export function redo<T>(history: History<T>): History<T> {
  if (history.future.length === 0) return history;
  return {
    past: [...history.past, history.present],
    present: history.future[0],
    future: history.future.slice(1),
    group: null,
  };
}
