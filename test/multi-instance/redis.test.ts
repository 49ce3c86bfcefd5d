import { redisFixture } from './fixtures.js';
import { runMultiInstanceScenarios } from './scenarios.js';

runMultiInstanceScenarios('one Redis', await redisFixture());
