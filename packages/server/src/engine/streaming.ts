/**
 * Content types that are streams by nature: they may never end, so they are never buffered for
 * replay (their key is completed as "not replayable").
 */
const STREAMING_TYPES = ['text/event-stream', 'application/x-ndjson+stream'];

/** Whether a content type names an endless stream (Server-Sent Events). */
export function isStreamingContentType(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const end = value.indexOf(';');
  const type = (end === -1 ? value : value.slice(0, end)).trim().toLowerCase();
  return STREAMING_TYPES.includes(type);
}
