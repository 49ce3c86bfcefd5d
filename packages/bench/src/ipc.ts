/** Messages between the orchestrator and its children. */
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; reason: string }
  /** Handler executions so far, and the CPU time (user + system, µs) the child has used. */
  | { type: 'stats'; effects: number; cpuMicros: number }
  | { type: 'result'; result: unknown };

export type ParentMessage = { type: 'stats' } | { type: 'close' };
