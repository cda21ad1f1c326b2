#!/usr/bin/env node
// The package's command: the compiled CLI lives in dist/ (built by `npm run build`).
require('../dist/client/cli.js')
  .main(process.argv)
  .catch((err) => {
    process.stderr.write(`${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
