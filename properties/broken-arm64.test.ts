import { brokenSuite } from './broken-suite.ts';

brokenSuite('arm64');
