import { describe, expect, it } from 'vitest';
import { ResponseRecorder } from './recorder.js';

describe('ResponseRecorder', () => {
  it('keeps a copy of a chunk it does not own, also of a Buffer (whose slice() is a view)', () => {
    const recorder = new ResponseRecorder(1024);
    recorder.head(200, [['content-type', 'text/plain']]);
    const reused = Buffer.from('first');
    recorder.write(reused, false);
    reused.write('XXXXX');
    const typed = new TextEncoder().encode('+two');
    recorder.write(typed, false);
    typed.fill(0x21);
    expect(Buffer.from(recorder.captured().body!).toString()).toBe('first+two');
  });

  it('keeps an owned chunk as is, and drops the body past maxBytes', () => {
    const recorder = new ResponseRecorder(4);
    recorder.head(200, []);
    const owned = new Uint8Array([1, 2, 3]);
    recorder.write(owned, true);
    expect(recorder.captured().body).toBe(owned);
    recorder.write(new Uint8Array([4, 5]), false);
    expect(recorder.captured()).toMatchObject({ body: null, notReplayable: 'oversize' });
  });
});
