// The back end's problems, placed on the canvas: those of a node on that node, the rest (the
// document's start, its triggers) in the editor's own list.

import type { Problem } from "./types";

export interface PlacedProblems {
  byNode: ReadonlyMap<string, Problem[]>;
  general: Problem[];
}

export function placeProblems(problems: readonly Problem[], nodeIds: Iterable<string>): PlacedProblems {
  const known = new Set(nodeIds);
  const byNode = new Map<string, Problem[]>();
  const general: Problem[] = [];
  for (const problem of problems) {
    if (problem.node_id !== null && known.has(problem.node_id)) {
      byNode.set(problem.node_id, [...(byNode.get(problem.node_id) ?? []), problem]);
    } else {
      general.push(problem);
    }
  }
  return { byNode, general };
}

export function describeProblem(problem: Problem): string {
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}
