// Mounts the flow editor on the dashboard page's #flow-editor element, whose data-api names the
// flow's editor endpoints and data-csrf carries the session's token.

import "@xyflow/react/dist/style.css";
import "./editor.css";

import { ReactFlowProvider } from "@xyflow/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App";
import { editorApi } from "./state/api";

function mount(): void {
  const element = document.getElementById("flow-editor");
  if (!element) return;
  const api = editorApi(element.dataset.api ?? "", element.dataset.csrf ?? "");
  createRoot(element).render(
    <StrictMode>
      <ReactFlowProvider>
        <App api={api} />
      </ReactFlowProvider>
    </StrictMode>,
  );
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();
