// The side panel: the fields of the selected node, by its type.

import type { ReactNode } from "react";

import { describeProblem } from "../state/problems";
import {
  ACTION_TYPES,
  BUTTON_ACTION_TYPES,
  MESSAGE_TYPES,
  NODE_LABELS,
  SUBJECT_TYPES,
  newAction,
  newButtonAction,
  newCondition,
  newMessage,
  questionAsMessages,
  questionAsText,
} from "../state/drafts";
import { freshId } from "../state/edits";
import { getIn } from "../state/paths";
import type { FlowNodeDoc, Path, Problem } from "../state/types";
import {
  ChoicesField,
  JsonField,
  ListField,
  NumberField,
  SelectField,
  TextField,
  plain,
  useCatalogOptions,
  useEditorContext,
  type Binding,
} from "./fields";

const CHANNELS = [
  "web", "facebook", "instagram", "whatsapp", "whatsapp_cloud", "wechat", "telegram", "google",
  "slack", "line", "viber", "vk", "voice", "sms", "rcs", "intercom", "jivochat", "chatwoot",
  "apichat",
];
const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const FIELD_OPERATORS = [
  "eq", "neq", "gt", "gte", "lt", "lte", "contains", "not_contains", "starts_with", "is_set",
  "is_not_set",
];
const UNARY = new Set(["is_set", "is_not_set"]);

/** The ids of the node's buttons, quick replies and branches, which share one space. */
function itemIds(value: unknown, top = true): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => itemIds(item, false));
  if (value === null || typeof value !== "object") return [];
  const record = value as Record<string, unknown>;
  const own = !top && typeof record.id === "string" ? [record.id] : [];
  return [...own, ...Object.values(record).flatMap((item) => itemIds(item, false))];
}

function newItemId(node: FlowNodeDoc, prefix: string): string {
  return freshId(prefix, itemIds(node));
}

function Buttons({ b, path }: { b: Binding; path: Path }) {
  const options = useCatalogOptions();
  return (
    <ListField
      b={b}
      path={path}
      label="Buttons"
      max={3}
      make={() => ({ id: newItemId(b.node, "b"), title: "Button", action: { type: "go_to", node: null } })}
      item={(at) => {
        const kind = getIn(b.node, [...at, "action", "type"]);
        return (
          <>
            <TextField b={b} path={[...at, "title"]} label="Title" />
            <ButtonAction b={b} at={at} kind={String(kind)} subFlows={options.subFlows} nodes={options.nodes} />
          </>
        );
      }}
    />
  );
}

function ButtonAction(props: {
  b: Binding;
  at: Path;
  kind: string;
  subFlows: [string, string][];
  nodes: [string, string][];
}) {
  const { b, at, kind, subFlows, nodes } = props;
  const { catalog } = useEditorContext();
  const action = [...at, "action"];
  return (
    <>
      <SelectField
        b={b}
        path={[...action, "type"]}
        label="Does"
        options={plain(BUTTON_ACTION_TYPES)}
        onPick={(type) => b.set(action, newButtonAction(type, catalog))}
      />
      {kind === "go_to" && <SelectField b={b} path={[...action, "node"]} label="Goes to" options={nodes} />}
      {kind === "url" && <TextField b={b} path={[...action, "url"]} label="URL" variables />}
      {kind === "sub_flow" && <SelectField b={b} path={[...action, "sub_flow_ns"]} label="Sub flow" options={subFlows} />}
      {kind === "phone" && <TextField b={b} path={[...action, "phone"]} label="Phone" variables />}
    </>
  );
}

function Messages({ b, path }: { b: Binding; path: Path }) {
  return (
    <ListField
      b={b}
      path={path}
      label="Messages"
      min={1}
      max={10}
      make={() => newMessage("text")}
      item={(at) => {
        const kind = String(getIn(b.node, [...at, "type"]));
        return (
          <>
            <SelectField
              b={b}
              path={[...at, "type"]}
              label="Kind"
              options={plain(MESSAGE_TYPES)}
              onPick={(type) => b.set(at, newMessage(type))}
            />
            {kind === "text" && (
              <>
                <TextField b={b} path={[...at, "text"]} label="Text" multiline variables />
                <Buttons b={b} path={[...at, "buttons"]} />
              </>
            )}
            {kind === "cards" && (
              <ListField
                b={b}
                path={[...at, "cards"]}
                label="Cards"
                min={1}
                max={10}
                make={() => ({ title: "Card", buttons: [] })}
                item={(card) => (
                  <>
                    <TextField b={b} path={[...card, "title"]} label="Title" variables />
                    <TextField b={b} path={[...card, "subtitle"]} label="Subtitle" optional variables />
                    <TextField b={b} path={[...card, "image_url"]} label="Image URL" optional variables />
                    <Buttons b={b} path={[...card, "buttons"]} />
                  </>
                )}
              />
            )}
            {kind !== "text" && kind !== "cards" && (
              <>
                <TextField b={b} path={[...at, "url"]} label="Media URL" variables />
                <TextField b={b} path={[...at, "caption"]} label="Caption" optional variables />
              </>
            )}
          </>
        );
      }}
    />
  );
}

function Saves({ b, path }: { b: Binding; path: Path }) {
  const { userFields } = useCatalogOptions();
  return (
    <ListField
      b={b}
      path={path}
      label="Keep from the answer"
      max={20}
      make={() => ({ path: "data.id", var_ns: userFields[0]?.[0] ?? "" })}
      item={(at) => (
        <>
          <TextField b={b} path={[...at, "path"]} label="JSON path" />
          <SelectField b={b} path={[...at, "var_ns"]} label="Into field" options={userFields} />
        </>
      )}
    />
  );
}

function ActionFields({ b, at }: { b: Binding; at: Path }) {
  const options = useCatalogOptions();
  const kind = String(getIn(b.node, [...at, "type"]));
  const text = (field: string, label: string, optional = false) => (
    <TextField b={b} path={[...at, field]} label={label} optional={optional} variables />
  );
  const fields: Record<string, ReactNode> = {
    add_tag: <SelectField b={b} path={[...at, "tag_ns"]} label="Tag" options={options.tags} />,
    remove_tag: <SelectField b={b} path={[...at, "tag_ns"]} label="Tag" options={options.tags} />,
    set_field: (
      <>
        <SelectField b={b} path={[...at, "var_ns"]} label="User field" options={options.userFields} />
        {text("value", "Value")}
      </>
    ),
    clear_field: <SelectField b={b} path={[...at, "var_ns"]} label="User field" options={options.userFields} />,
    set_bot_field: (
      <>
        <SelectField b={b} path={[...at, "var_ns"]} label="Bot field" options={options.botFields} />
        {text("value", "Value")}
      </>
    ),
    pause_bot: <NumberField b={b} path={[...at, "minutes"]} label="Minutes" />,
    log_event: (
      <>
        {text("event_name", "Event")}
        {text("text_value", "Text value", true)}
        <NumberField b={b} path={[...at, "number_value"]} label="Number value" optional step={0.01} />
        <NumberField b={b} path={[...at, "price_value"]} label="Price value" optional step={0.01} />
      </>
    ),
    http_request: (
      <>
        <SelectField b={b} path={[...at, "method"]} label="Method" options={plain(["GET", "POST", "PUT", "PATCH", "DELETE"])} />
        {text("url", "URL")}
        <JsonField b={b} path={[...at, "headers"]} label="Headers (JSON object)" />
        <JsonField b={b} path={[...at, "body"]} label="Body (JSON)" />
        <NumberField b={b} path={[...at, "timeout_seconds"]} label="Timeout (s)" optional />
        <Saves b={b} path={[...at, "save"]} />
      </>
    ),
    notify_webhook: (
      <>
        {text("url", "URL")}
        <JsonField b={b} path={[...at, "payload"]} label="Payload (JSON object)" />
      </>
    ),
    open_ticket: (
      <>
        {text("list_name", "List")}
        {text("title", "Title")}
        {text("description", "Description", true)}
        <JsonField b={b} path={[...at, "values"]} label="Values (JSON object)" />
      </>
    ),
    call_app: (
      <>
        {text("app_ns", "App")}
        {text("action", "Action")}
        <JsonField b={b} path={[...at, "params"]} label="Params (JSON object)" />
        <NumberField b={b} path={[...at, "timeout_seconds"]} label="Timeout (s)" optional />
        <Saves b={b} path={[...at, "save"]} />
      </>
    ),
  };
  return <>{fields[kind] ?? null}</>;
}

function Actions({ b }: { b: Binding }) {
  const { catalog } = useEditorContext();
  return (
    <ListField
      b={b}
      path={["actions"]}
      label="Actions"
      min={1}
      max={20}
      make={() => newAction("add_tag", catalog)}
      item={(at) => (
        <>
          <SelectField
            b={b}
            path={[...at, "type"]}
            label="Action"
            options={plain(ACTION_TYPES)}
            onPick={(type) => b.set(at, newAction(type, catalog))}
          />
          <ActionFields b={b} at={at} />
        </>
      )}
    />
  );
}

function ConditionFields({ b, at }: { b: Binding; at: Path }) {
  const { catalog } = useEditorContext();
  const options = useCatalogOptions();
  const subject = String(getIn(b.node, [...at, "subject", "type"]));
  const operator = String(getIn(b.node, [...at, "operator"]));
  return (
    <>
      <SelectField
        b={b}
        path={[...at, "subject", "type"]}
        label="About"
        options={plain(SUBJECT_TYPES)}
        onPick={(type) => b.set(at, newCondition(type, catalog))}
      />
      {subject === "tag" && (
        <>
          <SelectField b={b} path={[...at, "subject", "tag_ns"]} label="Tag" options={options.tags} />
          <SelectField b={b} path={[...at, "operator"]} label="Is" options={plain(["has", "has_not"])} />
        </>
      )}
      {(subject === "field" || subject === "bot_field") && (
        <>
          <SelectField
            b={b}
            path={[...at, "subject", "var_ns"]}
            label="Field"
            options={subject === "field" ? options.userFields : options.botFields}
          />
          <SelectField
            b={b}
            path={[...at, "operator"]}
            label="Operator"
            options={plain(FIELD_OPERATORS)}
            onPick={(picked) => {
              const next = { ...(getIn(b.node, at) as object), operator: picked } as Record<string, unknown>;
              if (UNARY.has(picked)) delete next.value;
              else if (next.value === undefined) next.value = "";
              b.set(at, next);
            }}
          />
          {!UNARY.has(operator) && <TextField b={b} path={[...at, "value"]} label="Value" variables />}
        </>
      )}
      {subject === "channel" && (
        <>
          <SelectField b={b} path={[...at, "operator"]} label="Operator" options={plain(["eq", "neq"])} />
          <SelectField b={b} path={[...at, "value"]} label="Channel" options={plain(CHANNELS)} />
        </>
      )}
      {subject === "time" && (
        <>
          <TextField b={b} path={[...at, "subject", "timezone"]} label="Time zone" optional />
          <SelectField
            b={b}
            path={[...at, "operator"]}
            label="Operator"
            options={plain(["between", "weekday_in"])}
            onPick={(picked) =>
              b.set(at, {
                ...(getIn(b.node, at) as object),
                operator: picked,
                value: picked === "between" ? { start: "09:00", end: "17:00" } : ["monday"],
              })
            }
          />
          {operator === "between" ? (
            <>
              <TextField b={b} path={[...at, "value", "start"]} label="From (HH:MM)" />
              <TextField b={b} path={[...at, "value", "end"]} label="To (HH:MM)" />
            </>
          ) : (
            <div className="fe-days">
              <ChoicesField b={b} path={[...at, "value"]} options={WEEKDAYS} shown={(day) => day.slice(0, 3)} />
            </div>
          )}
        </>
      )}
    </>
  );
}

function Branches({ b }: { b: Binding }) {
  const { catalog } = useEditorContext();
  return (
    <ListField
      b={b}
      path={["branches"]}
      label="Branches (the first that holds is taken)"
      min={1}
      max={20}
      make={() => ({ id: newItemId(b.node, "b"), match: "all", conditions: [newCondition("tag", catalog)], next: null })}
      item={(at) => (
        <>
          <TextField b={b} path={[...at, "id"]} label="Name" />
          <SelectField b={b} path={[...at, "match"]} label="Match" options={[["all", "all conditions"], ["any", "any condition"]]} />
          <ListField
            b={b}
            path={[...at, "conditions"]}
            label="Conditions"
            min={1}
            max={20}
            make={() => newCondition("tag", catalog)}
            item={(condition) => <ConditionFields b={b} at={condition} />}
          />
        </>
      )}
    />
  );
}

function Outputs({ b }: { b: Binding }) {
  const outputs = getIn(b.node, ["outputs"]);
  const names = outputs && typeof outputs === "object" ? Object.keys(outputs) : [];
  return (
    <fieldset className="fe-list">
      <legend>Outputs of the function flow</legend>
      {names.map((name) => (
        <div className="fe-item" key={name}>
          <span>{name}</span>
          <button type="button" onClick={() => b.unset(["outputs", name])} title="Remove">
            ×
          </button>
        </div>
      ))}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const input = event.currentTarget.elements.namedItem("output") as HTMLInputElement;
          if (input.value && !names.includes(input.value)) b.set(["outputs", input.value], null);
          input.value = "";
        }}
      >
        <input name="output" placeholder="output name" pattern="[A-Za-z0-9_-]+" />
        <button type="submit">+ Add</button>
      </form>
    </fieldset>
  );
}

function TypeFields({ b }: { b: Binding }) {
  const options = useCatalogOptions();
  const { kind } = useEditorContext();
  const node = b.node;
  switch (node.type) {
    case "send_message":
      return (
        <>
          <Messages b={b} path={["messages"]} />
          <ListField
            b={b}
            path={["quick_replies"]}
            label="Quick replies"
            max={11}
            make={() => ({ id: newItemId(node, "q"), title: "Reply", next: null })}
            item={(at) => <TextField b={b} path={[...at, "title"]} label="Title" />}
          />
        </>
      );
    case "user_input":
      return (
        <>
          {Array.isArray(node.question) ? (
            <>
              <Messages b={b} path={["question"]} />
              <button type="button" onClick={() => b.set(["question"], questionAsText(node.question))}>
                Ask in plain text instead
              </button>
            </>
          ) : (
            <>
              <TextField b={b} path={["question"]} label="Question" multiline variables />
              <button type="button" onClick={() => b.set(["question"], questionAsMessages(node.question))}>
                Ask with messages (buttons, media)
              </button>
            </>
          )}
          <SelectField b={b} path={["var_ns"]} label="Save the reply to" options={options.userFields} optional />
          <SelectField
            b={b}
            path={["input_type"]}
            label="Answer type"
            options={plain(["text", "number", "email", "phone", "date", "datetime", "choice"])}
            onPick={(type) => {
              const { choices: _choices, ...rest } = node;
              b.set([], type === "choice" ? { ...rest, input_type: type, choices: ["Yes", "No"] } : { ...rest, input_type: type });
            }}
          />
          {node.input_type === "choice" && (
            <ListField b={b} path={["choices"]} label="Choices" min={1} max={11} make={() => "Choice"} item={(at) => <TextField b={b} path={at} label="Choice" />} />
          )}
          <NumberField b={b} path={["retries"]} label="Retries" optional />
          <TextField b={b} path={["retry_message"]} label="Retry message" optional variables />
          <NumberField b={b} path={["timeout_minutes"]} label="Timeout (minutes)" optional />
        </>
      );
    case "action":
      return <Actions b={b} />;
    case "condition":
      return <Branches b={b} />;
    case "randomizer":
      return (
        <ListField
          b={b}
          path={["branches"]}
          label="Branches"
          min={2}
          max={10}
          make={() => ({ id: newItemId(node, "r"), weight: 50, next: null })}
          item={(at) => (
            <>
              <TextField b={b} path={[...at, "id"]} label="Name" />
              <NumberField b={b} path={[...at, "weight"]} label="Weight" />
            </>
          )}
        />
      );
    case "delay":
      return (
        <>
          <NumberField b={b} path={["minutes"]} label="Minutes" optional />
          <TextField b={b} path={["until"]} label="Or until (date and time)" optional variables />
        </>
      );
    case "go_to":
      return <SelectField b={b} path={["node"]} label="Goes to" options={options.nodes} />;
    case "start_flow":
      return (
        <>
          <SelectField b={b} path={["sub_flow_ns"]} label="Sub flow" options={options.subFlows} />
          <Outputs b={b} />
        </>
      );
    case "return":
      return kind !== "function" ? (
        <p className="fe-hint">Ends the flow here.</p>
      ) : (
        <>
          <TextField b={b} path={["output"]} label="Output" optional />
          <JsonField b={b} path={["value"]} label="Value (JSON)" />
        </>
      );
    case "whatsapp_template":
      return (
        <>
          <TextField b={b} path={["template_name"]} label="Template" />
          <TextField b={b} path={["language"]} label="Language" />
          <JsonField b={b} path={["params"]} label='Params (JSON object, e.g. {"BODY_{{1}}": "{{first_name}}"})' />
        </>
      );
    case "products":
      return (
        <>
          <TextField b={b} path={["product_type"]} label="Product type" optional />
          <TextField b={b} path={["tag"]} label="Tag" optional />
          <NumberField b={b} path={["limit"]} label="Limit" optional />
          <TextField b={b} path={["button_title"]} label="Button title" optional />
        </>
      );
    case "cart":
      return (
        <>
          <TextField b={b} path={["checkout_title"]} label="Checkout button" optional />
          <TextField b={b} path={["more_title"]} label="More button" optional />
        </>
      );
    case "checkout":
      return (
        <>
          <TextField b={b} path={["payment_method"]} label="Payment method" optional />
          <SelectField b={b} path={["shipping_method"]} label="Shipping" options={plain(["pickup", "delivery"])} optional />
          <SelectField b={b} path={["status"]} label="Status" options={plain(["ordered", "paid"])} optional />
        </>
      );
    case "knowledge_answer":
      return (
        <>
          <TextField b={b} path={["question"]} label="Question" variables />
          <TextField b={b} path={["instructions"]} label="Instructions" multiline optional />
          <NumberField b={b} path={["top_k"]} label="Rows (top k)" optional />
          <NumberField b={b} path={["min_score"]} label="Minimum score" optional step={0.05} />
          <SelectField b={b} path={["var_ns"]} label="Save the answer to" options={options.userFields} optional />
        </>
      );
    default:
      return null;
  }
}

export function Inspector(props: {
  b: Binding;
  problems: Problem[];
  isStart: boolean;
  onMakeStart(): void;
}) {
  const { b, problems, isStart, onMakeStart } = props;
  return (
    <div className="fe-inspector">
      <h3>
        {NODE_LABELS[b.node.type] ?? b.node.type} <code>{b.node.id}</code>
      </h3>
      {problems.length > 0 && (
        <ul className="fe-problems">
          {problems.map((problem, index) => (
            <li key={index}>{describeProblem(problem)}</li>
          ))}
        </ul>
      )}
      <TextField b={b} path={["name"]} label="Name" optional />
      <button type="button" disabled={isStart} onClick={onMakeStart}>
        {isStart ? "This is the start" : "Start the flow here"}
      </button>
      <TypeFields b={b} />
      <details>
        <summary>JSON of this node</summary>
        <JsonField b={b} path={[]} label="Node" />
      </details>
    </div>
  );
}
