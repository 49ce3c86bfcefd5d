import { postgresFixture } from './fixtures.js';
import { runMultiInstanceScenarios } from './scenarios.js';

runMultiInstanceScenarios('one PostgreSQL', await postgresFixture(false));
