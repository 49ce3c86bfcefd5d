import { sqliteFixture } from './fixtures.js';
import { runMultiInstanceScenarios } from './scenarios.js';

runMultiInstanceScenarios('one SQLite file', await sqliteFixture(false));
