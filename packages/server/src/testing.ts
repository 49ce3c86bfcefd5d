export { runStoreContractSuite } from './testing/store-contract-suite.js';
export type { StoreContractSuiteOptions } from './testing/store-contract-suite.js';
export { runAdapterConformanceSuite, expectProblem } from './testing/conformance/suite.js';
export type {
  ConformanceApp,
  ConformanceHarness,
  ConformanceRequest,
  ConformanceResponse,
  ConformanceServer,
} from './testing/conformance/types.js';
export {
  createFailingStore,
  createHangingStore,
  createRecordingStore,
  createSlowClaimStore,
} from './testing/store-wrappers.js';
export { rawRequest } from './testing/raw-http.js';
export type { RawResponse } from './testing/raw-http.js';
export { useTestRunner } from './testing/runner.js';
export type { TestRunner, Expect, Matchers, AsyncMatchers } from './testing/runner.js';
