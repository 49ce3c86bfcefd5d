import { postgresFixture } from './fixtures.js';
import { runMultiInstanceScenarios } from './scenarios.js';

runMultiInstanceScenarios('one PostgreSQL, in transactional mode', await postgresFixture(true));
