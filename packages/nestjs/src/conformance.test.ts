import { runAdapterConformanceSuite } from '@oncely/server/testing';
import { nestHarness } from './test-harness.js';

runAdapterConformanceSuite('nestjs (express platform)', nestHarness('express'));
runAdapterConformanceSuite('nestjs (fastify platform)', nestHarness('fastify'));
