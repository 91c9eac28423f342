// The editor: loads the flow's draft, keeps it with its undo history, and wires the canvas,
// palette, side panel and toolbar to the edits of state/edits.ts and the editor API.

import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { EditorContext, type Binding } from "./components/fields";
import { FlowNodeView } from "./components/FlowNodeView";
import { FlowSettings } from "./components/FlowSettings";
import { Inspector } from "./components/Inspector";
import { PreviewPanel } from "./components/PreviewPanel";
import { VersionsPanel } from "./components/VersionsPanel";
import { ApiError, type EditorApi } from "./state/api";
import { NODE_LABELS, newNode, paletteTypes } from "./state/drafts";
import {
  addNode,
  connect,
  copyNodes,
  deleteNodes,
  disconnect,
  moveNode,
  nodeById,
  pasteNodes,
  replaceNode,
  setStart,
  type Clip,
} from "./state/edits";
import { toCanvasEdges, toCanvasNodes, type CanvasNode } from "./state/graph";
import { checkpoint, commit, redo, replacePresent, startHistory, undo, type History } from "./state/history";
import { autoLayout } from "./state/layout";
import { NO_TRAIL, followTrail, type Trail } from "./state/preview";
import { pathKey, removeIn, setIn } from "./state/paths";
import { NODE_TYPES } from "./state/ports";
import { describeProblem, placeProblems } from "./state/problems";
import type { EditorPayload, FlowDocument, Path, PreviewState, Problem } from "./state/types";

const nodeTypes = { flow: FlowNodeView };
const PASTE_OFFSET = { x: 40, y: 40 };
const FIT = { maxZoom: 1 };
// Far enough out for a flow of a few dozen nodes to fit a laptop's canvas.
const MIN_ZOOM = 0.2;
// The drag data type of a node type dragged from the palette onto the canvas.
const PALETTE_DRAG = "application/x-konversation-node-type";

interface Notice {
  kind: "info" | "error";
  text: string;
  /** A copy of the user's document to download, offered when a save was refused. */
  keep?: FlowDocument;
}

function typingInAField(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

export function App({ api }: { api: EditorApi }) {
  const [loaded, setLoaded] = useState<{ payload: EditorPayload; notice: Notice | null } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  // A reload starts a new editor on the stored draft; `notice` is what it opens with.
  const load = useCallback(
    (notice: Notice | null = null) =>
      api.load().then(
        (payload) => setLoaded({ payload, notice }),
        (error: Error) => setLoadError(error.message),
      ),
    [api],
  );
  useEffect(() => {
    void load();
  }, [load]);
  if (loadError) return <div className="fe-notice fe-error">The flow could not be loaded: {loadError}</div>;
  if (!loaded) return <div className="fe-loading">Loading the flow…</div>;
  const { payload, notice } = loaded;
  return <Editor key={`${payload.flow.ref}:${payload.revision}`} api={api} payload={payload} notice={notice} reload={load} />;
}

function Editor(props: { api: EditorApi; payload: EditorPayload; notice: Notice | null; reload(notice: Notice): Promise<void> }) {
  const { api, payload, reload } = props;
  const { screenToFlowPosition, fitView } = useReactFlow();
  const [history, setHistory] = useState<History<FlowDocument>>(() => startHistory(payload.draft));
  const [saved, setSaved] = useState<FlowDocument>(payload.draft);
  const [revision, setRevision] = useState(payload.revision);
  const [published, setPublished] = useState(payload.published_version);
  // The revision a save just got, for a publish that follows it before the next render.
  const revisionRef = useRef(payload.revision);
  const [problems, setProblems] = useState<Problem[]>(payload.problems);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(new Set());
  const [panel, setPanel] = useState<"node" | "versions" | "preview">("node");
  const [trail, setTrail] = useState<Trail>(NO_TRAIL);
  const [notice, setNotice] = useState<Notice | null>(props.notice);
  const [busy, setBusy] = useState(false);
  const [versionsKey, setVersionsKey] = useState(0);
  // Sizes the canvas measured, which the minimap and fit view need; not part of the document.
  const [measured, setMeasured] = useState<ReadonlyMap<string, { width: number; height: number }>>(new Map());
  const clip = useRef<Clip | null>(null);
  const canvas = useRef<HTMLDivElement>(null);

  const doc = history.present;
  const dirty = doc !== saved;
  const edit = useCallback(
    (change: (current: FlowDocument) => FlowDocument, group: string | null = null) =>
      setHistory((current) => commit(current, change(current.present), group)),
    [],
  );

  const placed = useMemo(() => placeProblems(problems, doc.nodes.map((node) => node.id)), [problems, doc]);
  const nodes = useMemo(
    () => toCanvasNodes(doc, placed, selected, panel === "preview" ? trail : NO_TRAIL).map((node) => ({ ...node, measured: measured.get(node.id) })),
    [doc, placed, selected, measured, panel, trail],
  );
  const edges = useMemo(() => toCanvasEdges(doc, selectedEdges), [doc, selectedEdges]);

  const onNodesChange = useCallback((changes: NodeChange<CanvasNode>[]) => {
    const picks = new Map<string, boolean>();
    const sizes = new Map<string, { width: number; height: number }>();
    const moves = changes.flatMap((change) => {
      if (change.type === "select") picks.set(change.id, change.selected);
      if (change.type === "dimensions" && change.dimensions) sizes.set(change.id, change.dimensions);
      return change.type === "position" && change.position ? [{ id: change.id, position: change.position }] : [];
    });
    if (moves.length > 0) {
      setHistory((current) =>
        replacePresent(current, moves.reduce((moved, { id, position }) => moveNode(moved, id, position), current.present)),
      );
    }
    if (sizes.size > 0) setMeasured((current) => new Map([...current, ...sizes]));
    if (picks.size > 0) {
      setSelected((current) => {
        const next = new Set(current);
        picks.forEach((isSelected, id) => (isSelected ? next.add(id) : next.delete(id)));
        return next;
      });
    }
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    const picks = changes.flatMap((change) => (change.type === "select" ? [change] : []));
    if (picks.length === 0) return;
    setSelectedEdges((current) => {
      const next = new Set(current);
      picks.forEach((change) => (change.selected ? next.add(change.id) : next.delete(change.id)));
      return next;
    });
  }, []);

  const onConnect = useCallback(
    (connection: Connection) => {
      if (connection.sourceHandle) edit((current) => connect(current, connection.source, connection.sourceHandle as string, connection.target));
    },
    [edit],
  );

  const onReconnect = useCallback(
    (old: Edge, connection: Connection) =>
      edit((current) => {
        const without = disconnect(current, old.source, old.sourceHandle ?? "");
        return connect(without, connection.source, connection.sourceHandle ?? "", connection.target);
      }),
    [edit],
  );

  const onDelete = useCallback(
    ({ nodes: gone, edges: cut }: { nodes: CanvasNode[]; edges: Edge[] }) => {
      edit((current) =>
        deleteNodes(
          cut.reduce((after, edge) => disconnect(after, edge.source, edge.sourceHandle ?? ""), current),
          gone.map((node) => node.id),
        ),
      );
      setSelected(new Set());
      setSelectedEdges(new Set());
    },
    [edit],
  );

  const centre = () => {
    const box = canvas.current?.getBoundingClientRect();
    return box ? screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 3 }) : { x: 0, y: 0 };
  };

  const add = (type: string, at: { x: number; y: number } = centre()) => {
    const { x, y } = at;
    setHistory((current) => {
      const { doc: next, id } = addNode(current.present, { ...newNode(type, payload.catalog), position: { x: Math.round(x), y: Math.round(y) } });
      setSelected(new Set([id]));
      return commit(current, next);
    });
    setPanel("node");
  };

  const paste = useCallback(() => {
    const copied = clip.current;
    if (!copied || copied.nodes.length === 0) return;
    setHistory((current) => {
      const { doc: next, ids } = pasteNodes(current.present, copied, PASTE_OFFSET);
      setSelected(new Set(ids));
      return commit(current, next);
    });
  }, []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (typingInAField(event.target) || !(event.ctrlKey || event.metaKey)) return;
      const key = event.key.toLowerCase();
      if (key === "z" && event.shiftKey) setHistory(redo);
      else if (key === "z" || (key === "y" && !event.shiftKey)) setHistory(key === "z" ? undo : redo);
      else if (key === "c") clip.current = copyNodes(doc, selected);
      else if (key === "v") paste();
      else return;
      event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [doc, selected, paste]);

  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (dirty) event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const save = async (): Promise<Problem[] | null> => {
    setBusy(true);
    try {
      const answer = await api.saveDraft(revisionRef.current, doc);
      revisionRef.current = answer.revision;
      setRevision(answer.revision);
      setProblems(answer.problems);
      setSaved(doc);
      setNotice({
        kind: "info",
        text: answer.problems.length ? `Draft saved, with ${answer.problems.length} problem(s) to fix before publishing.` : "Draft saved.",
      });
      return answer.problems;
    } catch (error) {
      setNotice({ kind: "error", text: refusedSave(error), keep: doc });
      return null;
    } finally {
      setBusy(false);
    }
  };

  const publish = async () => {
    const remaining = dirty ? await save() : problems;
    if (remaining === null || remaining.length > 0) return;
    const note = window.prompt("A note for this version (optional):", "");
    if (note === null) return;
    setBusy(true);
    try {
      const answer = await api.publish(revisionRef.current, note);
      setNotice({ kind: "info", text: `Published as version ${answer.version}.` });
      setPublished(answer.version);
      setVersionsKey((key) => key + 1);
    } catch (error) {
      if (error instanceof ApiError && error.problems.length > 0) setProblems(error.problems);
      setNotice({ kind: "error", text: failure(error) });
    } finally {
      setBusy(false);
    }
  };

  const ensureSaved = async (): Promise<boolean> => {
    const remaining = dirty ? await save() : problems;
    return remaining !== null && remaining.length === 0;
  };

  const followPreview = useCallback((state: PreviewState, restarted: boolean) => setTrail((current) => followTrail(current, state, restarted)), []);

  const togglePanel = (shown: "versions" | "preview") => {
    setPanel(panel === shown ? "node" : shown);
    setTrail(NO_TRAIL);
  };

  const rollback = async (version: number) => {
    if (dirty && !window.confirm("Rolling back replaces the draft, and your unsaved changes with it. Go on?")) return;
    try {
      const answer = await api.rollback(version);
      await reload({ kind: "info", text: `Version ${version} is published again as version ${answer.version}.` });
    } catch (error) {
      setNotice({ kind: "error", text: failure(error) });
    }
  };

  const layout = async () => {
    const next = await autoLayout(doc);
    edit(() => next);
    window.requestAnimationFrame(() => void fitView(FIT));
  };

  const only = selected.size === 1 ? nodeById(doc, [...selected][0]) : undefined;
  const binding: Binding | null = only
    ? {
        node: only,
        set: (path: Path, value: unknown) =>
          edit(
            (current) => {
              const node = nodeById(current, only.id);
              if (!node) return current;
              const next = path.length === 0 ? { ...(value as object), id: only.id } : setIn(node, path, value);
              return replaceNode(current, next as typeof node);
            },
            `${only.id}:${pathKey(path)}`,
          ),
        unset: (path: Path) =>
          edit((current) => {
            const node = nodeById(current, only.id);
            return node && path.length > 0 ? replaceNode(current, removeIn(node, path)) : current;
          }, `${only.id}:${pathKey(path)}`),
      }
    : null;

  const context = useMemo(
    () => ({ catalog: payload.catalog, kind: payload.flow.kind, nodeIds: doc.nodes.map((node) => node.id) }),
    [payload.catalog, payload.flow.kind, doc],
  );

  return (
    <EditorContext.Provider value={context}>
      <div className="fe-editor">
        <aside className="fe-sidebar">
          <h3>Flows</h3>
          <ul className="fe-flows">
            {payload.flows.map((flow) => (
              <li key={flow.ref} className={flow.ref === payload.flow.ref ? "fe-current" : undefined}>
                <a href={`../${encodeURIComponent(flow.ref)}/edit`}>{flow.name}</a> <small>{flow.kind}</small>
              </li>
            ))}
          </ul>
          <h3>Add a node</h3>
          <div className="fe-palette">
            {paletteTypes(NODE_TYPES, payload.flow.kind, payload.catalog.node_types).map((type) => (
              <button
                key={type}
                type="button"
                draggable
                onDragStart={(event) => {
                  event.dataTransfer.setData(PALETTE_DRAG, type);
                  event.dataTransfer.effectAllowed = "copy";
                }}
                onClick={() => add(type)}
              >
                {NODE_LABELS[type] ?? type}
              </button>
            ))}
          </div>
        </aside>
        <main className="fe-main">
          <div className="fe-toolbar">
            <strong>{payload.flow.name}</strong>
            <span className="fe-status">
              {dirty ? "unsaved changes" : "saved"} · revision {revision}
              {published !== null && <> · published v{published}</>}
            </span>
            <button type="button" onClick={() => setHistory(undo)} disabled={history.past.length === 0} title="Ctrl+Z">
              Undo
            </button>
            <button type="button" onClick={() => setHistory(redo)} disabled={history.future.length === 0} title="Ctrl+Shift+Z">
              Redo
            </button>
            <button type="button" onClick={() => void layout()}>
              Auto layout
            </button>
            <button type="button" onClick={() => void save()} disabled={busy || !dirty}>
              Save draft
            </button>
            <button
              type="button"
              onClick={() => void publish()}
              disabled={busy || (!dirty && problems.length > 0)}
              title={problems.length > 0 ? "Fix the problems first" : undefined}
            >
              Publish
            </button>
            <button type="button" onClick={() => togglePanel("preview")}>
              {panel === "preview" ? "Close preview" : "Preview"}
            </button>
            <button type="button" onClick={() => togglePanel("versions")}>
              {panel === "versions" ? "Close versions" : "Versions"}
            </button>
          </div>
          {notice && (
            <div className={`fe-notice fe-${notice.kind}`} role="status">
              <span>
                {notice.text}{" "}
                {notice.keep && (
                  <a
                    href={`data:application/json;charset=utf-8,${encodeURIComponent(JSON.stringify(notice.keep, null, 2))}`}
                    download={`${payload.flow.ref}-draft.json`}
                  >
                    Download your version
                  </a>
                )}
              </span>
              <button type="button" onClick={() => setNotice(null)} aria-label="Dismiss">
                ×
              </button>
            </div>
          )}
          {placed.general.length > 0 && (
            <ul className="fe-problems">
              {placed.general.map((problem, index) => (
                <li key={index}>
                  {problem.node_id && <code>{problem.node_id}</code>} {describeProblem(problem)}
                </li>
              ))}
            </ul>
          )}
          <div
            className="fe-canvas"
            ref={canvas}
            onDragOver={(event) => {
              if (event.dataTransfer.types.includes(PALETTE_DRAG)) event.preventDefault();
            }}
            onDrop={(event) => {
              const type = event.dataTransfer.getData(PALETTE_DRAG);
              if (!type) return;
              event.preventDefault();
              add(type, screenToFlowPosition({ x: event.clientX, y: event.clientY }));
            }}
          >
            <ReactFlow
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onNodeDragStart={() => setHistory(checkpoint)}
              onConnect={onConnect}
              onReconnect={onReconnect}
              onDelete={onDelete}
              deleteKeyCode={["Delete", "Backspace"]}
              // Fitted once, as the flow opens: an empty one is not, lest its first node, once
              // dropped, be jumped to. A small flow shows at its real size, not blown up.
              fitView={payload.draft.nodes.length > 0}
              fitViewOptions={FIT}
              minZoom={MIN_ZOOM}
            >
              <Background />
              <Controls />
              <MiniMap pannable zoomable nodeColor={(node) => ((node as CanvasNode).data.problems.length ? "#d33" : "#7a8")} />
            </ReactFlow>
          </div>
        </main>
        <aside className="fe-panel">
          {panel === "preview" ? (
            <PreviewPanel api={api} ensureSaved={ensureSaved} onState={followPreview} onProblems={setProblems} />
          ) : panel === "versions" ? (
            <VersionsPanel api={api} refreshKey={versionsKey} onRollback={rollback} onError={(text) => setNotice({ kind: "error", text })} />
          ) : binding ? (
            <Inspector
              b={binding}
              problems={placed.byNode.get(binding.node.id) ?? []}
              isStart={doc.start === binding.node.id}
              onMakeStart={() => edit((current) => setStart(current, binding.node.id))}
            />
          ) : (
            <FlowSettings
              doc={doc}
              set={(path, value) => edit((current) => setIn(current, path, value), `flow:${pathKey(path)}`)}
              unset={(path) => edit((current) => removeIn(current, path), `flow:${pathKey(path)}`)}
            />
          )}
        </aside>
      </div>
    </EditorContext.Provider>
  );
}

function failure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a save was refused; a conflict keeps the user's document for them to download. */
function refusedSave(error: unknown): string {
  const conflict = error instanceof ApiError && error.status === 409;
  return conflict ? `${error.message} Your changes are still here: download them before you reload.` : failure(error);
}
