// The preview: a chat with the saved draft as the owner's test subscriber. Every answer of the
// server says which nodes ran, which the canvas highlights; a poll picks up what a delay sends.

import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";

import { ApiError, type EditorApi } from "../state/api";
import { pressable, quickReplies } from "../state/preview";
import type { PreviewChoice, PreviewItem, PreviewSaid, PreviewState, Problem } from "../state/types";

const POLL_MS = 2000;

export function PreviewPanel(props: {
  api: EditorApi;
  /** Saves unsaved changes first, since the preview runs the saved draft; false when it could
   * not, or when the draft has problems to fix. */
  ensureSaved(): Promise<boolean>;
  onState(state: PreviewState, restarted: boolean): void;
  onProblems(problems: Problem[]): void;
}) {
  const { api, ensureSaved, onState, onProblems } = props;
  const [messages, setMessages] = useState<PreviewItem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [text, setText] = useState("");
  const list = useRef<HTMLOListElement>(null);

  const take = useCallback(
    (state: PreviewState, restarted = false) => {
      setMessages(state.messages);
      onState(state, restarted);
    },
    [onState],
  );

  const run = useCallback(
    async (call: () => Promise<PreviewState>, restarted: boolean) => {
      setBusy(true);
      setError(null);
      try {
        if (!(await ensureSaved())) {
          setError("Fix the draft's problems (in red on the canvas), then try again.");
          return;
        }
        take(await call(), restarted);
      } catch (failed) {
        if (failed instanceof ApiError && failed.problems.length > 0) onProblems(failed.problems);
        setError(failed instanceof Error ? failed.message : String(failed));
      } finally {
        setBusy(false);
      }
    },
    [ensureSaved, take, onProblems],
  );

  const restart = useCallback(() => run(() => api.restartPreview(), true), [api, run]);
  const say = (said: PreviewSaid) => run(() => api.sayInPreview(said), false);

  // Started once, when the panel opens; the Restart button starts it again.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void restart();
  }, [restart]);

  useEffect(() => {
    const timer = window.setInterval(() => {
      if (busy) return;
      api.preview().then(
        (state) => {
          if (state.messages.length !== messages.length) take(state);
        },
        () => undefined, // the next poll tries again; a lasting failure shows on the next message
      );
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [api, busy, messages.length, take]);

  useEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [messages]);

  const send = (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    void say({ text });
    setText("");
  };

  const press = (choice: PreviewChoice) => void say({ payload: choice.payload, title: choice.title });

  return (
    <div className="fe-preview">
      <div className="fe-preview-head">
        <h3>Preview</h3>
        <button type="button" onClick={() => void restart()} disabled={busy}>
          Restart
        </button>
      </div>
      <p className="fe-hint">The saved draft, as your test subscriber sees it. The live bot is not changed.</p>
      <ol className="fe-preview-messages" ref={list} aria-label="Preview conversation">
        {messages.map((item) => (
          <li key={item.id} className={`fe-said fe-said-${item.direction}`}>
            <Bubble item={item} onPress={press} disabled={busy} />
          </li>
        ))}
      </ol>
      <div className="fe-preview-replies">
        {quickReplies(messages).map((reply) => (
          <button key={reply.payload} type="button" onClick={() => press(reply)} disabled={busy}>
            {reply.title}
          </button>
        ))}
      </div>
      {error && (
        <div className="fe-notice fe-error" role="alert">
          {error}
        </div>
      )}
      <form className="fe-preview-form" onSubmit={send}>
        <input aria-label="Message to the draft" value={text} onChange={(event) => setText(event.target.value)} placeholder="Type a message…" />
        <button type="submit" disabled={busy || !text.trim()}>
          Send
        </button>
      </form>
    </div>
  );
}

function Bubble({ item, onPress, disabled }: { item: PreviewItem; onPress(choice: PreviewChoice): void; disabled: boolean }) {
  const message = item.message;
  if (item.direction === "in") return <p>{message.text}</p>;
  return (
    <>
      {message.type === "cards" ? (
        (message.cards ?? []).map((card, index) => (
          <div key={index} className="fe-card">
            <strong>{card.title}</strong>
            {card.subtitle && <div>{card.subtitle}</div>}
            <Buttons choices={card.buttons} onPress={onPress} disabled={disabled} />
          </div>
        ))
      ) : message.type === "image" && message.url ? (
        <img src={message.url} alt={message.caption || "Image"} />
      ) : message.type && message.type !== "text" ? (
        <p>
          <a href={message.url} target="_blank" rel="noopener noreferrer">
            {message.caption || `${message.type}`}
          </a>
        </p>
      ) : (
        <p>{message.text}</p>
      )}
      <Buttons choices={message.buttons} onPress={onPress} disabled={disabled} />
    </>
  );
}

function Buttons({ choices, onPress, disabled }: { choices?: PreviewChoice[]; onPress(choice: PreviewChoice): void; disabled: boolean }) {
  const shown = choices ?? [];
  if (shown.length === 0) return null;
  const answering = new Set(pressable(shown));
  return (
    <div className="fe-preview-buttons">
      {shown.map((choice, index) =>
        answering.has(choice) ? (
          <button key={index} type="button" onClick={() => onPress(choice)} disabled={disabled}>
            {choice.title}
          </button>
        ) : choice.url ? (
          <a key={index} href={choice.url} target="_blank" rel="noopener noreferrer">
            {choice.title}
          </a>
        ) : (
          <span key={index}>{choice.title}</span>
        ),
      )}
    </div>
  );
}
