import { brokenSuite } from './broken-suite.ts';

brokenSuite('x86');
