// Form controls bound to a path inside the selected node: each reads its value there and
// writes through `Binding.set`, which makes the edit (and groups it for undo by its path).

import { createContext, useContext, useRef, useState, type ReactNode } from "react";

import { getIn, pathKey } from "../state/paths";
import type { Catalog, FlowNodeDoc, Path } from "../state/types";
import { insertAt, variableGroups } from "../state/variables";

export interface Binding {
  node: FlowNodeDoc;
  set(path: Path, value: unknown): void;
  unset(path: Path): void;
}

export interface EditorContextValue {
  catalog: Catalog;
  /** The flow's kind: main, sub, workflow or function. */
  kind: string;
  nodeIds: string[];
}

export const EditorContext = createContext<EditorContextValue | null>(null);

export function useEditorContext(): EditorContextValue {
  const value = useContext(EditorContext);
  if (!value) throw new Error("the editor's fields need an EditorContext");
  return value;
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="fe-row">
      <span className="fe-label">{label}</span>
      {children}
    </label>
  );
}

function VariablePicker({ onPick }: { onPick(name: string): void }) {
  const { catalog } = useEditorContext();
  return (
    <select
      className="fe-vars"
      aria-label="Insert a variable"
      value=""
      onChange={(event) => event.target.value && onPick(event.target.value)}
    >
      <option value="">{"{{…}}"}</option>
      {variableGroups(catalog).map((group) => (
        <optgroup key={group.label} label={group.label}>
          {group.names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </optgroup>
      ))}
    </select>
  );
}

export function TextField(props: {
  b: Binding;
  path: Path;
  label: string;
  multiline?: boolean;
  optional?: boolean;
  variables?: boolean;
}) {
  const { b, path, label, multiline, optional, variables } = props;
  const raw = getIn(b.node, path);
  const value = typeof raw === "string" ? raw : raw === undefined || raw === null ? "" : String(raw);
  // Where the caret last was: picking a variable moves the focus to the picker, and a field
  // never focused takes the variable at its end.
  const caret = useRef<{ start: number; end: number } | null>(null);
  const write = (text: string) => (optional && text === "" ? b.unset(path) : b.set(path, text));
  const pick = (name: string) => {
    const { start, end } = caret.current ?? { start: value.length, end: value.length };
    const inserted = insertAt(value, start, end, name);
    caret.current = { start: inserted.caret, end: inserted.caret };
    write(inserted.text);
  };
  // Named by the label alone: the label also holds the variable picker, whose options would
  // otherwise become part of the field's name.
  const common = {
    "aria-label": label,
    value,
    onChange: (event: { target: { value: string } }) => write(event.target.value),
    onSelect: (event: { currentTarget: { selectionStart: number | null; selectionEnd: number | null } }) => {
      const { selectionStart, selectionEnd } = event.currentTarget;
      if (selectionStart !== null && selectionEnd !== null) caret.current = { start: selectionStart, end: selectionEnd };
    },
  };
  return (
    <Row label={label}>
      <span className="fe-input">
        {multiline ? <textarea rows={3} {...common} /> : <input type="text" {...common} />}
        {variables && <VariablePicker onPick={pick} />}
      </span>
    </Row>
  );
}

export function NumberField(props: { b: Binding; path: Path; label: string; optional?: boolean; step?: number }) {
  const { b, path, label, optional, step } = props;
  const raw = getIn(b.node, path);
  return (
    <Row label={label}>
      <input
        type="number"
        step={step ?? 1}
        value={typeof raw === "number" ? raw : ""}
        onChange={(event) => {
          const text = event.target.value;
          if (text === "") {
            if (optional) b.unset(path);
            return;
          }
          b.set(path, Number(text));
        }}
      />
    </Row>
  );
}

export type Options = readonly (readonly [string, string])[];

export function SelectField(props: {
  b: Binding;
  path: Path;
  label: string;
  options: Options;
  optional?: boolean;
  onPick?(value: string): void;
}) {
  const { b, path, label, options, optional, onPick } = props;
  const raw = getIn(b.node, path);
  const value = typeof raw === "string" ? raw : "";
  const known = options.some(([option]) => option === value);
  return (
    <Row label={label}>
      <select
        value={value}
        onChange={(event) => {
          const picked = event.target.value;
          if (onPick) onPick(picked);
          else if (picked === "" && optional) b.unset(path);
          else b.set(path, picked);
        }}
      >
        {(optional || !known) && <option value="">{optional ? "(none)" : value || "(choose)"}</option>}
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
    </Row>
  );
}

export function useCatalogOptions() {
  const { catalog, nodeIds } = useEditorContext();
  const named = (ns: string, name: string): [string, string] => [ns, `${name} (${ns})`];
  return {
    tags: catalog.tags.map((tag) => named(tag.tag_ns, tag.name)),
    userFields: catalog.user_fields.map((field) => named(field.var_ns, field.name)),
    botFields: catalog.bot_fields.map((field) => named(field.var_ns, field.name)),
    subFlows: catalog.sub_flows.map((flow) => named(flow.sub_flow_ns, flow.name)),
    nodes: nodeIds.map((id): [string, string] => [id, id]),
  };
}

export function plain(values: readonly string[]): Options {
  return values.map((value) => [value, value] as const);
}

/** Any JSON value, edited as text and written once it parses. */
export function JsonField(props: { b: Binding; path: Path; label: string }) {
  const { b, path, label } = props;
  const current = getIn(b.node, path);
  const shown = current === undefined ? "" : JSON.stringify(current, null, 2);
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <Row label={label}>
      <textarea
        rows={4}
        className={error ? "fe-invalid" : undefined}
        value={text ?? shown}
        onChange={(event) => setText(event.target.value)}
        onBlur={() => {
          if (text === null) return;
          if (text.trim() === "") {
            b.unset(path);
            setText(null);
            setError(null);
            return;
          }
          try {
            b.set(path, JSON.parse(text));
            setText(null);
            setError(null);
          } catch {
            setError("not valid JSON");
          }
        }}
      />
      {error && <span className="fe-error">{error}</span>}
    </Row>
  );
}

/** A list inside the node, with add, remove and reorder. */
export function ListField(props: {
  b: Binding;
  path: Path;
  label: string;
  max?: number;
  min?: number;
  make(): unknown;
  item(path: Path, index: number): ReactNode;
  /** The add button's text, when "+ Add" says too little. */
  addLabel?: string;
}) {
  const { b, path, label, max, min, make, item, addLabel = "+ Add" } = props;
  const raw = getIn(b.node, path);
  const items = Array.isArray(raw) ? raw : [];
  const move = (from: number, to: number) => {
    const copy = [...items];
    const [moved] = copy.splice(from, 1);
    copy.splice(to, 0, moved);
    b.set(path, copy);
  };
  return (
    <fieldset className="fe-list">
      <legend>{label}</legend>
      {items.map((_, index) => (
        <div className="fe-item" key={`${pathKey(path)}.${index}`}>
          <div className="fe-item-tools">
            <button type="button" disabled={index === 0} onClick={() => move(index, index - 1)} title="Move up">
              ↑
            </button>
            <button
              type="button"
              disabled={index === items.length - 1}
              onClick={() => move(index, index + 1)}
              title="Move down"
            >
              ↓
            </button>
            <button
              type="button"
              disabled={items.length <= (min ?? 0)}
              onClick={() => b.set(path, items.filter((__, other) => other !== index))}
              title="Remove"
            >
              ×
            </button>
          </div>
          {item([...path, index], index)}
        </div>
      ))}
      {(max === undefined || items.length < max) && (
        <button type="button" className="fe-add" onClick={() => b.set(path, [...items, make()])}>
          {addLabel}
        </button>
      )}
    </fieldset>
  );
}

/** A checkbox per option, bound to the list of those checked, kept in the options' order. */
export function ChoicesField(props: {
  b: Binding;
  path: Path;
  options: readonly string[];
  shown?(option: string): string;
  className?: string;
}) {
  const { b, path, options, shown = (option: string) => option, className } = props;
  const raw = getIn(b.node, path);
  const chosen = new Set(Array.isArray(raw) ? raw : []);
  return (
    <>
      {options.map((option) => (
        <label key={option} className={className}>
          <input
            type="checkbox"
            checked={chosen.has(option)}
            onChange={(event) =>
              b.set(
                path,
                options.filter((each) => (each === option ? event.target.checked : chosen.has(each))),
              )
            }
          />
          {shown(option)}
        </label>
      ))}
    </>
  );
}
