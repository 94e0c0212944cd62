// Mocha's dot reporter plus one plain closing line, "N passed, N failed, N skipped", which CI
// reads to know that tests ran (mocha's own "N passing" is not one it reads).
'use strict';
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Dot {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      process.stdout.write(`\ntests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}

module.exports = SummaryReporter;
