export { startFaultProxy } from './proxy.js';
export type { FaultProxy, FaultProxyOptions, FaultStats } from './proxy.js';
export { FAULT_KINDS, pickFault, validateRates } from './faults.js';
export type { FaultKind, FaultRates } from './faults.js';
export { mulberry32, requestRandom } from './random.js';
