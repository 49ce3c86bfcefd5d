import { nextMessage, spawnChild } from '../children.js';
import type { MemoryResult } from '../memory/main.js';

export type { MemoryResult };

/**
 * RSS and heap growth of a MemoryStore (or a SqliteStore, which keeps them in its file) holding `keys`
 * completed records, in a fresh child process.
 */
export async function runMemorySuite(
  keys = 100_000,
  bodyBytes = 200,
  store: 'memory' | 'sqlite' = 'memory',
): Promise<MemoryResult | { skipped: string }> {
  const child = spawnChild('memory/main.ts', [String(keys), String(bodyBytes), store], {
    nodeFlags: ['--expose-gc'],
  });
  try {
    const { result } = await nextMessage(child, 'result', 120_000);
    return result as MemoryResult;
  } catch (error) {
    child.kill('SIGKILL');
    return { skipped: `failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}
