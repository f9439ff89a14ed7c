import { TailBuffer } from '../../../src/activities/tail-buffer';

describe('TailBuffer', () => {
  it('keeps everything while under the limit', () => {
    const tail = new TailBuffer(16);
    tail.push('hello ');
    tail.push(Buffer.from('world'));
    expect(tail.toString()).toBe('hello world');
    expect(tail.totalBytes).toBe(11);
  });

  it('keeps exactly the last N bytes across many chunks', () => {
    const tail = new TailBuffer(10);
    for (let i = 0; i < 100; i++) tail.push(String(i % 10));
    expect(tail.toString()).toBe('0123456789');
    expect(tail.totalBytes).toBe(100);
  });

  it('keeps the end of a single chunk larger than the limit', () => {
    const tail = new TailBuffer(4);
    tail.push('abcdefgh');
    expect(tail.toString()).toBe('efgh');
  });

  it('does not start with a broken character when the cut falls inside one', () => {
    // "x€é" is 6 bytes: x, € (3 bytes), é (2 bytes). The last 4 bytes start with two
    // continuation bytes of "€", which are dropped.
    const cut = new TailBuffer(4);
    cut.push('x€é');
    expect(cut.toString()).toBe('é');
    // The last 5 bytes are exactly "€é": nothing to drop.
    const exact = new TailBuffer(5);
    exact.push('x€é');
    expect(exact.toString()).toBe('€é');
  });

  it('rejects a non-positive limit', () => {
    expect(() => new TailBuffer(0)).toThrow(RangeError);
  });
});
