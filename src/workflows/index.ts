/** The workflow bundle's entry point: every workflow type the Convoy worker registers. */
export { pipelineWorkflow } from './pipeline';
export { deploymentWorkflow } from './deployment';
export { convoyTimerProbe } from './timer-probe';
export { convoyTrain } from './train';
