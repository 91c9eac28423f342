// The panel when no node is selected: what starts the flow (its keyword triggers), and how to
// work the canvas.

import type { FlowDocument, FlowNodeDoc, Path } from "../state/types";
import { JsonField, ListField, SelectField, TextField, plain, type Binding } from "./fields";

const MATCHES = ["exact", "contains", "starts_with"];

export function FlowSettings(props: {
  doc: FlowDocument;
  set(path: Path, value: unknown): void;
  unset(path: Path): void;
}) {
  const { doc, set, unset } = props;
  // The fields read and write by path from the object they are bound to: here the document.
  const b: Binding = { node: doc as unknown as FlowNodeDoc, set, unset };
  const triggers = Array.isArray(doc.triggers) ? doc.triggers : [];
  return (
    <div className="fe-flow-settings">
      <h3>This flow</h3>
      <ListField
        b={b}
        path={["triggers"]}
        label="Starts when a subscriber says"
        max={20}
        make={() => ({ keywords: ["hello"], match: "exact" })}
        item={(at, index) =>
          isKeywordTrigger(triggers[index]) ? (
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
          ) : (
            <JsonField b={b} path={at} label="Trigger (JSON)" />
          )
        }
      />
      <p className="fe-hint">
        Select a node to edit it. Drag from an output on the right of a node to another node to connect them; Delete removes
        what is selected; Ctrl+C / Ctrl+V copy nodes; Ctrl+Z / Ctrl+Shift+Z undo and redo.
      </p>
    </div>
  );
}

function isKeywordTrigger(trigger: unknown): boolean {
  return trigger !== null && typeof trigger === "object" && Array.isArray((trigger as { keywords?: unknown }).keywords);
}
