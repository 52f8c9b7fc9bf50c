#!/usr/bin/env node
// Fails when a vitest JSON report (--reporter=json --outputFile=FILE) holds a skipped test. The root-only
// trials skip themselves with a reason when they cannot run (no root, no tmpfs mount, no setpriv); in the
// step that runs them with sudo a skip means the trial never happened, so it must not pass as green.
import { readFileSync } from 'node:fs';

/** @typedef {{ fullName: string, status: string }} AssertionResult */
/** @typedef {{ name: string, assertionResults: AssertionResult[] }} FileResult */

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: assert-none-skipped.mjs <vitest-json-report>');
  process.exit(2);
}
/** @type {{ numTotalTests: number, testResults: FileResult[] }} */
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = report.testResults.flatMap((f) => f.assertionResults.filter((t) => t.status !== 'passed' && t.status !== 'failed').map((t) => `${f.name}: ${t.fullName} (${t.status})`));
for (const line of skipped) console.error(`not run: ${line}`);
console.log(`${report.numTotalTests - skipped.length} of ${report.numTotalTests} tests ran`);
process.exit(skipped.length === 0 ? 0 : 1);
