#!/usr/bin/env node
// Committed rather than built, so that `pnpm install` in the repository can link the bin before any
// build has made dist/ (a bin pointing into dist/ made every fresh install warn).
import '../dist/cli.js';
