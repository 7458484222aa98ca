// The body scan keeps the source text of numbers where amounts live: top-level properties, and properties
// of objects in a top-level array (the events of POST /v1/usage/batch); deeper numbers are not kept.
import { describe, expect, it } from 'vitest';
import { scanJson } from '../../src/api/json-body.js';

describe('scanJson', () => {
  it('keeps number texts of top-level properties and of objects in top-level arrays, by position', () => {
    const text = `{"credits": 1.50, "events": [
      {"credits": 1.0000001, "meta": {"credits": 7, "list": [8, {"x": 9}]}, "costUsd": -0},
      "text, with \\"quotes\\" and [brackets]",
      {},
      {"k\\u0065y": 12.25e0, "arr": [1, 2], "after": 3}
    ], "other": 2}`;
    const { numbers, itemNumbers } = scanJson(text);
    expect([...numbers]).toEqual([
      ['credits', '1.50'],
      ['other', '2'],
    ]);
    const items = itemNumbers.get('events')!;
    expect(items).toHaveLength(4);
    expect([...items[0]!]).toEqual([
      ['credits', '1.0000001'],
      ['costUsd', '-0'],
    ]);
    expect(items[1]).toBeUndefined();
    expect(items[2]).toBeUndefined();
    expect([...items[3]!]).toEqual([
      ['key', '12.25e0'],
      ['after', '3'],
    ]);
  });

  it('keeps nothing for bodies that are arrays, and refuses nesting past the limit', () => {
    expect(scanJson('[{"a": 1}]').itemNumbers.size).toBe(0);
    expect(() => scanJson('['.repeat(40) + ']'.repeat(40))).toThrow(/nested deeper/);
  });
});
