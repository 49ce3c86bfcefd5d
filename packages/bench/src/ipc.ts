/** Messages between the orchestrator and its children. */
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; reason: string }
  | { type: 'stats'; effects: number }
  | { type: 'result'; result: unknown };

export type ParentMessage = { type: 'stats' } | { type: 'close' };
