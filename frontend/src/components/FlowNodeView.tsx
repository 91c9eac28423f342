// A node on the canvas: its type, name and a line of what it does, one input on the left and
// one output handle per port on the right; problems turn it red and are listed under it.

import { Handle, Position, type NodeProps } from "@xyflow/react";

import { NODE_LABELS } from "../state/drafts";
import type { CanvasNode } from "../state/graph";
import { describeProblem } from "../state/problems";
import type { Catalog, FlowNodeDoc } from "../state/types";
import { useEditorContext } from "./fields";

function summary(node: FlowNodeDoc, catalog: Catalog): string {
  const messages = Array.isArray(node.messages) ? node.messages : [];
  const first = messages[0] as { text?: unknown; type?: unknown } | undefined;
  if (first) return typeof first.text === "string" ? first.text : `${String(first.type)} message`;
  if (typeof node.question === "string") return node.question;
  if (Array.isArray(node.actions)) {
    return node.actions.map((action) => String((action as { type?: unknown }).type)).join(", ");
  }
  if (typeof node.minutes === "number") return `${node.minutes} min`;
  if (typeof node.until === "string") return `until ${node.until}`;
  if (typeof node.sub_flow_ns === "string") {
    const sub = catalog.sub_flows.find((flow) => flow.sub_flow_ns === node.sub_flow_ns);
    return sub ? `${sub.name} (${sub.sub_flow_ns})` : node.sub_flow_ns;
  }
  if (typeof node.template_name === "string") return node.template_name;
  return "";
}

export function FlowNodeView({ data, selected }: NodeProps<CanvasNode>) {
  const { doc, ports, problems, isStart, active, visited } = data;
  const { catalog } = useEditorContext();
  const classes = ["fe-node", `fe-node-${doc.type}`];
  if (selected) classes.push("fe-selected");
  if (active) classes.push("fe-active");
  else if (visited) classes.push("fe-visited");
  if (problems.length > 0) classes.push("fe-has-problems");
  return (
    <div className={classes.join(" ")}>
      <Handle type="target" position={Position.Left} id="in" />
      <div className="fe-node-head">
        {isStart && <span className="fe-start">start</span>}
        <span className="fe-node-type">{NODE_LABELS[doc.type] ?? doc.type}</span>
        <span className="fe-node-name">{doc.name ?? doc.id}</span>
      </div>
      <div className="fe-node-summary">{summary(doc, catalog).slice(0, 80)}</div>
      <ul className="fe-ports">
        {ports.map((port) => (
          <li key={port.key} className="fe-port">
            <span>{port.label}</span>
            <Handle type="source" position={Position.Right} id={port.key} />
          </li>
        ))}
      </ul>
      {problems.length > 0 && (
        <ul className="fe-node-problems">
          {problems.map((problem, index) => (
            <li key={index}>{describeProblem(problem)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
