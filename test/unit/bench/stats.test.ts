import { percentile, ratio, round, summarize } from '../../../bench/stats';

describe('percentile (nearest rank)', () => {
  it('returns an observed sample, whatever the input order', () => {
    const values = [5, 1, 4, 2, 3];
    expect(percentile(values, 50)).toBe(3);
    expect(percentile(values, 99)).toBe(5);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 100)).toBe(5);
  });

  it('makes p99 the worst sample below 100 samples and the 99th of 100', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred.slice(0, 20), 99)).toBe(20);
  });

  it('is NaN without samples and rejects a percentile outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('summarize', () => {
  it('reports count, extremes, percentiles and mean rounded to 0.1 ms', () => {
    expect(summarize([10.04, 20.06, 30])).toEqual({
      samples: 3,
      minMs: 10,
      p50Ms: 20.1,
      p99Ms: 30,
      maxMs: 30,
      meanMs: 20,
    });
  });

  it('reports NaN figures for no samples', () => {
    const s = summarize([]);
    expect(s.samples).toBe(0);
    expect(s.p50Ms).toBeNaN();
    expect(s.maxMs).toBeNaN();
  });
});

describe('round and ratio', () => {
  it('rounds to the given digits and leaves non-finite values alone', () => {
    expect(round(1.26, 1)).toBe(1.3);
    expect(round(1.234, 2)).toBe(1.23);
    expect(round(Number.NaN)).toBeNaN();
  });

  it('gives null when a side is missing or zero', () => {
    expect(ratio(30, 20)).toBe(1.5);
    expect(ratio(30, 0)).toBeNull();
    expect(ratio(Number.NaN, 2)).toBeNull();
  });
});
