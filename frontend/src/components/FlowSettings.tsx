// The panel when no node is selected: what starts the flow (keywords, an order's new status, a
// mini-app's trigger), and how to work the canvas.

import type { FlowDocument, FlowNodeDoc, Path } from "../state/types";
import { ChoicesField, JsonField, ListField, SelectField, TextField, plain, type Binding } from "./fields";

const MATCHES = ["exact", "contains", "starts_with"];
const ORDER_STATUSES = ["paid", "ordered", "processing", "shipped", "completed", "cancelled", "refunded"];
// As many as the flow format allows (MAX_TRIGGERS of flows/format.py).
const MAX_TRIGGERS = 10;

export function FlowSettings(props: {
  doc: FlowDocument;
  set(path: Path, value: unknown): void;
  unset(path: Path): void;
}) {
  const { doc, set, unset } = props;
  // The fields read and write by path from the object they are bound to: here the document.
  const b: Binding = { node: doc as unknown as FlowNodeDoc, set, unset };
  const triggers = Array.isArray(doc.triggers) ? doc.triggers : [];
  const addTrigger = (trigger: object) => set(["triggers"], [...triggers, trigger]);
  return (
    <div className="fe-flow-settings">
      <h3>This flow</h3>
      <ListField
        b={b}
        path={["triggers"]}
        label="Starts when"
        max={MAX_TRIGGERS}
        make={() => ({ keywords: ["hello"], match: "exact" })}
        addLabel="+ A subscriber says…"
        item={(at, index) => <TriggerFields b={b} at={at} trigger={triggers[index]} />}
      />
      {triggers.length < MAX_TRIGGERS && (
        <div className="fe-add-triggers">
          <button type="button" onClick={() => addTrigger({ order_status: ["paid"] })}>
            + An order moves
          </button>
          <button type="button" onClick={() => addTrigger({ app_ns: "", trigger_name: "" })}>
            + A mini-app fires
          </button>
        </div>
      )}
      <p className="fe-hint">
        Select a node to edit it. Drag from an output on the right of a node to another node to connect them; Delete removes
        what is selected; Ctrl+C / Ctrl+V copy nodes; Ctrl+Z / Ctrl+Shift+Z undo and redo.
      </p>
    </div>
  );
}

function TriggerFields({ b, at, trigger }: { b: Binding; at: Path; trigger: unknown }) {
  const fields = trigger !== null && typeof trigger === "object" ? (trigger as Record<string, unknown>) : {};
  if (Array.isArray(fields.keywords)) {
    return (
      <>
        <ListField
          b={b}
          path={[...at, "keywords"]}
          label="Keywords"
          min={1}
          max={20}
          make={() => "keyword"}
          item={(keyword) => <TextField b={b} path={keyword} label="Keyword" />}
        />
        <SelectField b={b} path={[...at, "match"]} label="Match" options={plain(MATCHES)} />
      </>
    );
  }
  if (Array.isArray(fields.order_status)) {
    return (
      <fieldset className="fe-list">
        <legend>An order of the subscriber moves to</legend>
        <ChoicesField b={b} path={[...at, "order_status"]} options={ORDER_STATUSES} className="fe-check" />
      </fieldset>
    );
  }
  if ("app_ns" in fields) {
    return (
      <>
        <TextField b={b} path={[...at, "app_ns"]} label="Mini-app id (app_ns)" />
        <TextField b={b} path={[...at, "trigger_name"]} label="Its trigger" />
      </>
    );
  }
  return <JsonField b={b} path={at} label="Trigger (JSON)" />;
}
