// Published versions: the list, what changed from one to the draft, and rolling back to one.

import { useEffect, useState } from "react";

import type { EditorApi } from "../state/api";
import type { Diff, VersionSummary } from "../state/types";

export function VersionsPanel(props: {
  api: EditorApi;
  refreshKey: number;
  onRollback(version: number): Promise<void>;
  onError(message: string): void;
}) {
  const { api, refreshKey, onRollback, onError } = props;
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [diff, setDiff] = useState<{ from: number; to: number | "draft"; diff: Diff } | null>(null);

  useEffect(() => {
    api.versions().then(
      (answer) => setVersions(answer.versions),
      (error: Error) => onError(error.message),
    );
  }, [api, refreshKey, onError]);

  const showDiff = (from: number, to: number | "draft") =>
    api.diff(from, to).then(
      (answer) => setDiff({ from, to, diff: answer }),
      (error: Error) => onError(error.message),
    );

  if (versions === null) return <p>Loading versions…</p>;
  return (
    <div className="fe-versions">
      <h3>Versions</h3>
      {versions.length === 0 && <p>Nothing published yet.</p>}
      {versions.length > 0 && <Compare versions={versions} onCompare={showDiff} />}
      <ul>
        {versions.map((version) => (
          <li key={version.number}>
            <strong>v{version.number}</strong> {new Date(version.published_at).toLocaleString()}
            {version.published_by && <> by {version.published_by}</>}
            {version.note && <div className="fe-note">{version.note}</div>}
            <div>
              <button type="button" onClick={() => showDiff(version.number, "draft")}>
                Diff to draft
              </button>
              {version.number > 1 && (
                <button type="button" onClick={() => showDiff(version.number - 1, version.number)}>
                  What it changed
                </button>
              )}
              <button
                type="button"
                onClick={() => {
                  if (window.confirm(`Publish version ${version.number} again, and make it the draft?`)) {
                    void onRollback(version.number);
                  }
                }}
              >
                Roll back
              </button>
            </div>
          </li>
        ))}
      </ul>
      {diff && (
        <div className="fe-diff">
          <h4>
            From v{diff.from} to {diff.to === "draft" ? "the draft" : `v${diff.to}`}
          </h4>
          {diff.diff.changes.length === 0 && <p>No node changed.</p>}
          <ul>
            {diff.diff.changes.map((change, index) => (
              <li key={index} className={`fe-change-${change.change}`}>
                <code>{change.node_id ?? "flow"}</code> {change.change}
                {change.details.length > 0 && (
                  <ul>
                    {change.details.map((detail, at) => (
                      <li key={at}>{detail}</li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
          {[...diff.diff.start, ...diff.diff.triggers].length > 0 && (
            <ul>
              {[...diff.diff.start, ...diff.diff.triggers].map((detail, index) => (
                <li key={index} className="fe-change-changed">
                  {detail}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

/** Picks any two versions (or a version and the draft) to compare. */
function Compare(props: { versions: VersionSummary[]; onCompare(from: number, to: number | "draft"): void }) {
  const { versions, onCompare } = props;
  const oldest = versions[versions.length - 1].number;
  const [from, setFrom] = useState(oldest);
  const [to, setTo] = useState<number | "draft">("draft");
  return (
    <div className="fe-compare">
      <select aria-label="From version" value={from} onChange={(event) => setFrom(Number(event.target.value))}>
        {versions.map((version) => (
          <option key={version.number} value={version.number}>
            v{version.number}
          </option>
        ))}
      </select>
      {" → "}
      <select
        aria-label="To version"
        value={to}
        onChange={(event) => setTo(event.target.value === "draft" ? "draft" : Number(event.target.value))}
      >
        <option value="draft">draft</option>
        {versions.map((version) => (
          <option key={version.number} value={version.number}>
            v{version.number}
          </option>
        ))}
      </select>{" "}
      <button type="button" onClick={() => onCompare(from, to)}>
        Compare
      </button>
    </div>
  );
}
