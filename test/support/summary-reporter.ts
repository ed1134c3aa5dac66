// Ends every test run with one plain line, "Tests: N passed, N failed, N skipped", that any
// CI log reader understands; the skipped tests are listed with their reasons above it.

import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed += 1;
        else if (state === "failed") failed += 1;
        else skipped.push(`${test.parent.type === "suite" ? `${test.parent.name} > ` : ""}${test.name}`);
      }
      if (module.state() === "failed" && [...module.children.allTests()].length === 0) failed += 1;
    }
    for (const name of skipped) console.log(`skipped: ${name}`);
    console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped`);
  }
}
