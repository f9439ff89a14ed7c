/**
 * Barrier book-keeping (SPEC section 3) as pure, deterministic state machines, safe to run inside
 * the pipeline workflow.
 *
 * - The single-barrier machine is exported flat: `createBarrier`, `arrive`, `withdraw`, `abandon`,
 *   `operatorRelease`, `operatorBreak`, `expire`, `nextDeadline`, ...
 */
export * from './barrier';
