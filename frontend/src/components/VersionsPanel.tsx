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
