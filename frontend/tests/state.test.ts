import { describe, expect, it } from "vitest";

import { ApiError, editorApi } from "../src/state/api";
import { newNode, paletteTypes, questionAsMessages, questionAsText } from "../src/state/drafts";
import {
  addNode,
  connect,
  copyNodes,
  deleteNodes,
  disconnect,
  moveNode,
  pasteNodes,
  replaceNode,
} from "../src/state/edits";
import { toCanvasEdges, toCanvasNodes } from "../src/state/graph";
import { commit, checkpoint, redo, replacePresent, startHistory, undo } from "../src/state/history";
import { autoLayout } from "../src/state/layout";
import { NODE_TYPES, portsOf } from "../src/state/ports";
import { placeProblems } from "../src/state/problems";
import type { FlowDocument } from "../src/state/types";
import { getIn, parsePathKey, removeIn, setIn } from "../src/state/paths";
import { insertAt, variableGroups } from "../src/state/variables";

const catalog = {
  tags: [{ tag_ns: "f1t1", name: "VIP" }],
  user_fields: [{ var_ns: "f1v1", name: "Favourite colour", var_type: "text" }],
  bot_fields: [{ var_ns: "f1v2", name: "Opening hours", var_type: "text" }],
  sub_flows: [{ sub_flow_ns: "f1s2", name: "Help" }],
};

function sample(): FlowDocument {
  return {
    version: 1,
    start: "hello",
    nodes: [
      {
        id: "hello",
        type: "send_message",
        name: "Greeting",
        position: { x: 0, y: 0 },
        messages: [
          {
            type: "text",
            text: "Hi {{first_name}}",
            buttons: [
              { id: "more", title: "More", action: { type: "go_to", node: "ask" } },
              { id: "site", title: "Site", action: { type: "url", url: "https://example.com" } },
            ],
          },
          {
            type: "cards",
            cards: [{ title: "A", buttons: [{ id: "pick", title: "Pick", action: { type: "go_to", node: "check" } }] }],
          },
        ],
        quick_replies: [{ id: "yes", title: "Yes", next: "check" }],
        next: null,
      },
      {
        id: "ask",
        type: "user_input",
        question: "Your email?",
        var_ns: "f1v1",
        input_type: "email",
        next: "check",
        invalid: null,
        timeout: "hello",
      },
      {
        id: "check",
        type: "condition",
        branches: [{ id: "vip", conditions: [{ subject: { type: "tag", tag_ns: "f1t1" }, operator: "has" }], next: "hello" }],
        else: null,
        unknown_future_field: { kept: [1, 2, 3] },
      },
      { id: "shop", type: "action", actions: [{ type: "http_request", method: "GET", url: "https://x", on_error: "ask" }, { type: "subscribe" }], next: null },
      { id: "sub", type: "start_flow", sub_flow_ns: "f1s2", outputs: { done: "hello", failed: null }, next: "shop" },
    ],
    triggers: [{ keywords: ["hi"], match: "exact" }],
  };
}

describe("ports", () => {
  it("gives every button with a go_to, quick reply and next of a send_message a port", () => {
    const ports = portsOf(sample().nodes[0]);
    expect(ports.map((port) => [port.key, port.label, port.target])).toEqual([
      ["messages.0.buttons.0.action.node", "More", "ask"],
      ["messages.1.cards.0.buttons.0.action.node", "Pick", "check"],
      ["quick_replies.0.next", "Yes", "check"],
      ["next", "next", null],
    ]);
  });

  it("gives each node type its named outputs", () => {
    const keys = (type: string) => portsOf({ id: "x", ...newNode(type, catalog) }).map((port) => port.key);
    expect(keys("user_input")).toEqual(["next", "invalid", "timeout"]);
    expect(keys("condition")).toEqual(["branches.0.next", "else"]);
    expect(keys("randomizer")).toEqual(["branches.0.next", "branches.1.next"]);
    expect(keys("products")).toEqual(["added", "empty"]);
    expect(keys("cart")).toEqual(["checkout", "more", "empty"]);
    expect(keys("checkout")).toEqual(["next", "failed"]);
    expect(keys("knowledge_answer")).toEqual(["next", "no_answer"]);
    expect(keys("whatsapp_template")).toEqual(["next"]);
    expect(keys("delay")).toEqual(["next"]);
    expect(keys("go_to")).toEqual(["node"]);
    expect(keys("return")).toEqual([]);
    expect(portsOf(sample().nodes[3]).map((port) => port.key)).toEqual(["actions.0.on_error", "next"]);
    expect(portsOf(sample().nodes[4]).map((port) => port.key)).toEqual(["outputs.done", "outputs.failed", "next"]);
  });
});

describe("document and canvas", () => {
  it("draws an edge for each connected port", () => {
    const edges = toCanvasEdges(sample());
    expect(edges.map((edge) => `${edge.source}:${edge.sourceHandle}->${edge.target}`)).toContain(
      "hello:messages.0.buttons.0.action.node->ask",
    );
    expect(edges).toHaveLength(9);
  });

  it("opens and saves a flow document unchanged", () => {
    const doc = sample();
    const before = JSON.stringify(doc);
    let history = startHistory(doc);
    toCanvasNodes(history.present, placeProblems([], []), new Set());
    history = commit(history, moveNode(history.present, "hello", { x: 0, y: 0 }));
    history = commit(history, connect(history.present, "ask", "next", "check"));
    expect(JSON.stringify(history.present)).toBe(before);
    expect(history.present).toBe(doc);
  });

  it("does not write positions of nodes that were not moved", () => {
    const doc: FlowDocument = { version: 1, start: null, nodes: [{ id: "a", type: "return" }] };
    const [node] = toCanvasNodes(doc, placeProblems([], []), new Set());
    expect(node.position).toEqual({ x: 0, y: 0 });
    expect(doc.nodes[0]).not.toHaveProperty("position");
  });
});

describe("edits", () => {
  it("connects a port, and reconnecting moves it", () => {
    const doc = connect(sample(), "hello", "next", "ask");
    expect(doc.nodes[0].next).toBe("ask");
    const moved = connect(doc, "hello", "quick_replies.0.next", "ask");
    expect((moved.nodes[0].quick_replies as { next: string }[])[0].next).toBe("ask");
    expect(sample().nodes[0].next).toBeNull();
  });

  it("refuses to connect to a missing node or from a missing port", () => {
    const doc = sample();
    expect(connect(doc, "hello", "next", "nowhere")).toBe(doc);
    expect(connect(doc, "hello", "messages.0.buttons.1.action.node", "ask")).toBe(doc);
  });

  it("disconnects a port to null", () => {
    const doc = disconnect(sample(), "ask", "timeout");
    expect(doc.nodes[1].timeout).toBeNull();
    expect(toCanvasEdges(doc).find((edge) => edge.id === "ask:timeout")).toBeUndefined();
  });

  it("deletes nodes with every port that led to them", () => {
    const doc = deleteNodes(sample(), ["check"]);
    expect(doc.nodes.map((node) => node.id)).toEqual(["hello", "ask", "shop", "sub"]);
    expect(doc.nodes[1].next).toBeNull();
    expect((doc.nodes[0].quick_replies as { next: unknown }[])[0].next).toBeNull();
    expect(toCanvasEdges(doc).some((edge) => edge.target === "check")).toBe(false);
  });

  it("clears the start when the start node is deleted", () => {
    expect(deleteNodes(sample(), ["hello"]).start).toBeNull();
  });

  it("adds a node under a fresh id, the first one becoming the start", () => {
    const { doc, id } = addNode({ version: 1, start: null, nodes: [] }, newNode("send_message", catalog));
    expect(id).toBe("n1");
    expect(doc.start).toBe("n1");
    const second = addNode(doc, newNode("delay", catalog));
    expect(second.id).toBe("n2");
    expect(second.doc.start).toBe("n1");
  });

  it("pastes copies under new ids, linked among themselves", () => {
    const doc = sample();
    const clip = copyNodes(doc, ["ask", "check"]);
    const { doc: pasted, ids } = pasteNodes(doc, clip, { x: 40, y: 40 });
    expect(ids).toEqual(["n6", "n7"]);
    const [ask, check] = pasted.nodes.slice(-2);
    expect(ask.next).toBe("n7");
    expect(ask.timeout).toBe("hello");
    expect((check.branches as { next: string }[])[0].next).toBe("hello");
    expect(check.unknown_future_field).toEqual({ kept: [1, 2, 3] });
    const afterDelete = pasteNodes(deleteNodes(doc, ["hello"]), copyNodes(doc, ["ask"]), { x: 0, y: 0 });
    expect(afterDelete.doc.nodes.at(-1)?.timeout).toBeNull();
  });
});

describe("undo and redo", () => {
  it("undoes and redoes edits in order", () => {
    const first = sample();
    let history = startHistory(first);
    history = commit(history, connect(history.present, "hello", "next", "ask"));
    history = commit(history, deleteNodes(history.present, ["shop"]));
    history = undo(history);
    expect(history.present.nodes).toHaveLength(5);
    expect(history.present.nodes[0].next).toBe("ask");
    history = undo(history);
    expect(history.present).toBe(first);
    expect(undo(history)).toBe(history);
    history = redo(redo(history));
    expect(history.present.nodes).toHaveLength(4);
  });

  it("merges the keystrokes of one field into one step", () => {
    const doc = sample();
    const rename = (name: string) => replaceNode(history.present, { ...history.present.nodes[0], name });
    let history = startHistory(doc);
    history = commit(history, rename("G"), "hello.name");
    history = commit(history, rename("Gr"), "hello.name");
    history = commit(history, rename("Gre"), "hello.name");
    expect(history.past).toHaveLength(1);
    expect(undo(history).present).toBe(doc);
  });

  it("undoes a drag as one step", () => {
    const doc = sample();
    let history = checkpoint(startHistory(doc));
    history = replacePresent(history, moveNode(history.present, "ask", { x: 10, y: 10 }));
    history = replacePresent(history, moveNode(history.present, "ask", { x: 20, y: 30 }));
    expect(history.present.nodes[1].position).toEqual({ x: 20, y: 30 });
    expect(undo(history).present).toBe(doc);
  });

  it("drops the redo steps after a new edit", () => {
    let history = startHistory(sample());
    history = undo(commit(history, disconnect(history.present, "ask", "next")));
    history = commit(history, disconnect(history.present, "ask", "timeout"));
    expect(redo(history)).toBe(history);
  });
});

describe("problems", () => {
  it("puts each node's problems on it and the rest in the general list", () => {
    const problems = [
      { node_id: "hello", path: "messages.0.text", message: "is too long" },
      { node_id: "hello", path: "next", message: "names no node" },
      { node_id: null, path: "start", message: "names no node" },
      { node_id: "gone", path: "", message: "old" },
    ];
    const placed = placeProblems(problems, ["hello", "ask"]);
    const nodes = toCanvasNodes(sample(), placed, new Set(["ask"]));
    expect(nodes[0].data.problems.map((problem) => problem.path)).toEqual(["messages.0.text", "next"]);
    expect(nodes[1].data.problems).toEqual([]);
    expect(nodes[1].selected).toBe(true);
    expect(placed.general.map((problem) => problem.message)).toEqual(["names no node", "old"]);
  });
});

describe("variables", () => {
  it("lists subscriber details, user fields and bot fields as templates name them", () => {
    const groups = variableGroups(catalog);
    expect(groups.map((group) => group.label)).toEqual(["Subscriber", "User fields", "Bot fields"]);
    expect(groups[0].names).toContain("first_name");
    expect(groups[1].names).toEqual(["favourite_colour"]);
    expect(groups[2].names).toEqual(["bot.opening_hours"]);
  });

  it("inserts a placeholder at the caret", () => {
    expect(insertAt("Hi !", 3, 3, "first_name")).toEqual({ text: "Hi {{first_name}}!", caret: 17 });
  });
});

describe("layout", () => {
  it("places every node, left to right along the edges", async () => {
    const doc = await autoLayout(sample());
    const x = (id: string) => doc.nodes.find((node) => node.id === id)?.position?.x ?? NaN;
    expect(doc.nodes.every((node) => node.position !== undefined)).toBe(true);
    expect(x("sub")).toBeLessThan(x("shop"));
  });
});

describe("api", () => {
  it("sends the draft with the CSRF token and reports a conflict with its message", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetcher = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ message: "Someone saved meanwhile." }), { status: 409 });
    }) as unknown as typeof fetch;
    const api = editorApi("/dashboard/api/flows/main", "tok", fetcher);
    const failure = await api.saveDraft(3, sample()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(409);
    expect((failure as ApiError).message).toBe("Someone saved meanwhile.");
    expect(calls[0].url).toBe("/dashboard/api/flows/main/draft");
    expect(calls[0].init.method).toBe("PUT");
    expect((calls[0].init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("tok");
    expect(JSON.parse(calls[0].init.body as string)).toEqual({ revision: 3, definition: sample() });
  });
});

describe("palette", () => {
  it("offers every node type in a main flow, and no talking ones in a workflow", () => {
    expect(paletteTypes(NODE_TYPES, "main", {})).toEqual(NODE_TYPES);
    const workflow = paletteTypes(NODE_TYPES, "workflow", {});
    expect(workflow).toContain("action");
    expect(workflow).not.toContain("send_message");
    expect(workflow).not.toContain("knowledge_answer");
  });

  it("offers only the types the server lists", () => {
    expect(paletteTypes(NODE_TYPES, "sub", { delay: {}, go_to: {}, teleport: {} })).toEqual(["delay", "go_to"]);
  });
});

describe("paths", () => {
  it("writes a copy along the path and shares the rest", () => {
    const doc = sample();
    const next = setIn(doc, ["nodes", 1, "question"], "Phone?");
    expect(getIn(next, ["nodes", 1, "question"])).toBe("Phone?");
    expect(doc.nodes[1].question).toBe("Your email?");
    expect(next.nodes[0]).toBe(doc.nodes[0]);
  });

  it("removes a key or a list item", () => {
    const node = sample().nodes[1];
    expect(removeIn(node, ["var_ns"])).not.toHaveProperty("var_ns");
    const hello = removeIn(sample().nodes[0], ["messages", 0]);
    expect((hello.messages as unknown[]).length).toBe(1);
    expect(parsePathKey("messages.0.buttons.1.action.node")).toEqual(["messages", 0, "buttons", 1, "action", "node"]);
  });
});

describe("api answers", () => {
  function answering(status: number, body: unknown, seen: RequestInit[] = []) {
    return (async (_url: string, init: RequestInit) => {
      seen.push(init);
      return new Response(JSON.stringify(body), { status });
    }) as unknown as typeof fetch;
  }

  it("reads without a CSRF token", async () => {
    const seen: RequestInit[] = [];
    await editorApi("/api", "tok", answering(200, { versions: [] }, seen)).versions();
    expect(seen[0].method).toBe("GET");
    expect(seen[0].headers as Record<string, string>).not.toHaveProperty("X-CSRF-Token");
  });

  it("hands on the problems of a refused publish", async () => {
    const problems = [{ node_id: "a", path: "next", message: "names no node" }];
    const api = editorApi("/api", "tok", answering(422, { message: "Fix these first.", problems }));
    const failure = (await api.publish(1, "").catch((error: unknown) => error)) as ApiError;
    expect([failure.status, failure.message, failure.problems]).toEqual([422, "Fix these first.", problems]);
  });
});

describe("a user input's question", () => {
  it("turns from plain text into messages and back, keeping its words", () => {
    const messages = questionAsMessages("Your name?");

    expect(messages).toEqual([{ type: "text", text: "Your name?" }]);
    expect(questionAsText([{ type: "image", url: "https://example.org/a.png" }, ...messages])).toBe("Your name?");
    expect(questionAsText([{ type: "image", url: "https://example.org/a.png" }])).toBe("");
  });
});
