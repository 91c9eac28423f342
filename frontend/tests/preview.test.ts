import { describe, expect, it } from "vitest";

import { editorApi } from "../src/state/api";
import { toCanvasNodes } from "../src/state/graph";
import { NO_TRAIL, followTrail, pressable, quickReplies } from "../src/state/preview";
import { placeProblems } from "../src/state/problems";
import type { FlowDocument, PreviewItem, PreviewState } from "../src/state/types";

function answer(executed: string[], waiting_at: string | null = null): PreviewState {
  return { messages: [], waiting_at, status: waiting_at ? "waiting" : "done", executed };
}

function said(direction: PreviewItem["direction"], message: PreviewItem["message"]): PreviewItem {
  return { id: `${direction}-${message.text ?? ""}`, direction, at: "2026-12-06T10:00:00Z", message };
}

describe("the preview's trail on the canvas", () => {
  it("stands at the node waiting for an answer and remembers the nodes run before", () => {
    const started = followTrail(NO_TRAIL, answer(["greeting"], "greeting"), true);
    const answered = followTrail(started, answer(["thanks", "colour-reply"]));

    expect(started.current).toBe("greeting");
    expect(answered.current).toBe("colour-reply");
    expect([...answered.visited]).toEqual(["greeting", "thanks", "colour-reply"]);
  });

  it("keeps its place on a poll that ran nothing, and starts over on a restart", () => {
    const before = followTrail(NO_TRAIL, answer(["greeting", "wait"], "wait"), true);

    expect(followTrail(before, answer([])).current).toBe("wait");
    const restarted = followTrail(before, answer(["greeting"], "greeting"), true);
    expect([...restarted.visited]).toEqual(["greeting"]);
  });

  it("marks the current node active and the visited ones on the canvas", () => {
    const doc: FlowDocument = {
      version: 1,
      start: "a",
      nodes: [
        { id: "a", type: "send_message", messages: [{ type: "text", text: "A" }], next: "b" },
        { id: "b", type: "send_message", messages: [{ type: "text", text: "B" }] },
        { id: "c", type: "send_message", messages: [{ type: "text", text: "C" }] },
      ],
    };
    const trail = followTrail(NO_TRAIL, answer(["a", "b"]), true);

    const nodes = toCanvasNodes(doc, placeProblems([], ["a", "b", "c"]), new Set(), trail);

    expect(nodes.map((node) => [node.id, node.data.active, node.data.visited])).toEqual([
      ["a", false, true],
      ["b", true, true],
      ["c", false, false],
    ]);
  });
});

describe("what the preview offers to press", () => {
  it("offers the quick replies of the bot's last message only", () => {
    const replies = [{ title: "Yes", payload: "p1" }];
    const asked = said("out", { type: "text", text: "Sure?", quick_replies: replies });

    expect(quickReplies([asked])).toEqual(replies);
    expect(quickReplies([asked, said("in", { text: "Yes" })])).toEqual([]);
  });

  it("presses the buttons that answer the bot, not those opening a page", () => {
    const buttons = [
      { type: "postback", title: "More", payload: "p2" },
      { type: "url", title: "Site", url: "https://example.org" },
    ];

    expect(pressable(buttons)).toEqual([buttons[0]]);
  });

  it("calls the preview endpoints with the session's token", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetcher = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify(answer([])), { status: 200 });
    }) as unknown as typeof fetch;
    const api = editorApi("/dashboard/api/flows/main", "tok", fetcher);

    await api.restartPreview();
    await api.sayInPreview({ payload: "p1", title: "Yes" });
    await api.preview();

    expect(calls.map((call) => [call.init.method, call.url])).toEqual([
      ["POST", "/dashboard/api/flows/main/preview"],
      ["POST", "/dashboard/api/flows/main/preview/messages"],
      ["GET", "/dashboard/api/flows/main/preview"],
    ]);
    expect(JSON.parse(calls[1].init.body as string)).toEqual({ payload: "p1", title: "Yes" });
    expect((calls[1].init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("tok");
  });
});
