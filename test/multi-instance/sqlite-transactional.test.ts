import { sqliteFixture } from './fixtures.js';
import { runMultiInstanceScenarios } from './scenarios.js';

runMultiInstanceScenarios('one SQLite file, in transactional mode', await sqliteFixture(true));
