/**
 * Workflow changes that alter commands, guarded with `patched()` so that running pipelines replay
 * the way they ran. Remove an entry (and its old branch) once no pipeline older than it can be
 * running; the replay fixtures in test/replay tell. One change is versioned by its workflow's input
 * instead, because a patch would cost the very write it removes: `barrierWaitsOnPipeline` in
 * ./deployment's input.
 */
export const Patches = {
  /** Deployment: wait until a cancelled step's process group is killed before going on. */
  waitForStepKill: 'convoy-wait-for-step-kill',
  /** Pipeline: no barrier outcome is signalled to the participant that broke the barrier. */
  noOutcomeToAbandoner: 'convoy-no-outcome-to-abandoner',
  /**
   * Pipeline: draws a capability that its children get in their input and every child ↔ parent
   * message must carry. Pipelines started before it accept their children's messages without one.
   */
  capability: 'convoy-capability',
  /**
   * Both workflows: a result that did not succeed fails the Temporal workflow (the document in the
   * failure's details) instead of completing it, so the Web UI shows it failed.
   */
  failUnsuccessfulResult: 'convoy-fail-unsuccessful-result',
  /**
   * Pipeline: release trains (issue 14). A pipeline whose plan has a train barrier draws a train
   * token, arrives at the train through the `joinTrain` activity and signals it when it leaves.
   * Only such plans reach the marker, so every pipeline started before it replays unchanged.
   */
  releaseTrains: 'convoy-release-trains',
  /**
   * Deployment: runs parallel steps (branches, barrier participants `<workflow>/<branch>`). Only
   * plans with a parallel step reach it, and none could be started before it existed: the marker
   * tells the histories that ran branches from those of any later change to how branches run.
   */
  parallelBranches: 'convoy-parallel-branches',
  /**
   * Both workflows: child pipelines (a `type: pipeline` step starts a pipeline workflow as a child
   * of the deployment workflow; that pipeline relays its workflows' `parent.` barrier messages to
   * and from the calling pipeline, which addresses them by ./model/participants).
   */
  childPipelines: 'convoy-child-pipelines',
} as const;
