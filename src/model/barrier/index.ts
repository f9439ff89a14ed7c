/**
 * Barrier book-keeping (SPEC section 3) as pure, deterministic state machines, safe to run inside
 * the pipeline workflow.
 *
 * - The single-barrier machine is exported flat: `createBarrier`, `arrive`, `withdraw`, `abandon`,
 *   `operatorRelease`, `operatorBreak`, `expire`, `nextDeadline`, ...
 * - The per-run book is the `Book` namespace, whose operations share those names but are addressed
 *   by `BarrierKey`, plus the bulk ones: `Book.arrive(book, key, ...)`, `Book.abandonAll(...)`,
 *   `Book.nextDeadline(book)`, `Book.toBarrierResults(book)`, ...
 */
export * from './barrier';
export * as Book from './book';
export type { BarrierBook, BarrierDefinition } from './book';
