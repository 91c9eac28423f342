// The editor's calls to the dashboard's JSON endpoints, same-origin with the session cookie;
// changes carry the session's CSRF token in X-CSRF-Token.

import type { Diff, EditorPayload, FlowDocument, PreviewSaid, PreviewState, Problem, VersionSummary } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

export interface EditorApi {
  load(): Promise<EditorPayload>;
  saveDraft(revision: number, definition: FlowDocument): Promise<{ revision: number; problems: Problem[] }>;
  publish(revision: number, note: string): Promise<{ version: number }>;
  versions(): Promise<{ versions: VersionSummary[] }>;
  diff(from: number, to: number | "draft"): Promise<Diff>;
  rollback(version: number): Promise<{ version: number }>;
  /** The preview as it stands, without running anything. */
  preview(): Promise<PreviewState>;
  /** Runs the saved draft from its start for the owner's test subscriber. */
  restartPreview(): Promise<PreviewState>;
  sayInPreview(said: PreviewSaid): Promise<PreviewState>;
}

export function editorApi(base: string, csrf: string, fetcher: typeof fetch = fetch): EditorApi {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetcher(base + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer: unknown = await response.json().catch(() => ({}));
    if (!response.ok) {
      const fields = (answer ?? {}) as { message?: unknown; problems?: unknown };
      throw new ApiError(
        response.status,
        typeof fields.message === "string" ? fields.message : `The server answered ${response.status}.`,
        Array.isArray(fields.problems) ? (fields.problems as Problem[]) : [],
      );
    }
    return answer as T;
  }
  return {
    load: () => call("GET", "/editor"),
    saveDraft: (revision, definition) => call("PUT", "/draft", { revision, definition }),
    publish: (revision, note) => call("POST", "/publish", { revision, note }),
    versions: () => call("GET", "/versions"),
    diff: (from, to) => call("GET", `/diff?from=${from}&to=${to}`),
    rollback: (version) => call("POST", "/rollback", { version }),
    preview: () => call("GET", "/preview"),
    restartPreview: () => call("POST", "/preview", {}),
    sayInPreview: (said) => call("POST", "/preview/messages", said),
  };
}
