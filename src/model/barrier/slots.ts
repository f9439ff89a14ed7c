/**
 * A persistent vector of slots as plain nested arrays: a 32-way trie of a fixed depth, as in
 * Clojure's vectors. The barrier keeps one slot per participant in it, so that recording an
 * arrival copies only the nodes on the path to that slot (at most 32 entries per level:
 * {@link slotDepth} levels, 1 up to 32 participants, 2 up to 1,024, 3 up to 32,768) instead of
 * every arrival so far. Every version shares the nodes it did not change with the one before.
 *
 * Pure and immutable: nothing is mutated after it was returned, and a trie survives a JSON round
 * trip unchanged (no holes, no `undefined`: an empty slot or subtree is `null`, and a node is only
 * as long as its last used entry).
 */

/** The root of a trie; `[]` is the empty trie of any depth. */
export type SlotTrie = readonly unknown[];

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;

/** The depth of a trie that holds `size` slots. */
export function slotDepth(size: number): number {
  let depth = 1;
  while (WIDTH ** depth < size) depth += 1;
  return depth;
}

/** The slot at `index`, or null when it was never set. */
export function getSlot<T>(root: SlotTrie, depth: number, index: number): T | null {
  let node: SlotTrie | null | undefined = root;
  for (let level = depth - 1; level > 0; level -= 1) {
    node = node[(index >>> (level * BITS)) & MASK] as SlotTrie | null | undefined;
    if (!node) return null;
  }
  return (node[index & MASK] as T | null | undefined) ?? null;
}

/** A new trie with the slot at `index` set to `value`; `root` is left as it was. */
export function setSlot<T>(root: SlotTrie, depth: number, index: number, value: T): SlotTrie {
  const write = (node: SlotTrie | null | undefined, level: number): unknown[] => {
    const at = (index >>> (level * BITS)) & MASK;
    const copy = node ? node.slice() : [];
    while (copy.length < at) copy.push(null);
    copy[at] = level === 0 ? value : write(copy[at] as SlotTrie | null | undefined, level - 1);
    return copy;
  };
  return write(root, depth - 1);
}

/** Calls `visit` for every slot that was set, in index order. */
export function forEachSlot<T>(
  root: SlotTrie,
  depth: number,
  visit: (value: T, index: number) => void,
): void {
  const walk = (node: SlotTrie, level: number, base: number): void => {
    node.forEach((child, i) => {
      if (child === null || child === undefined) return;
      const index = base + (i << (level * BITS));
      if (level === 0) visit(child as T, index);
      else walk(child as SlotTrie, level - 1, index);
    });
  };
  walk(root, depth - 1, 0);
}
