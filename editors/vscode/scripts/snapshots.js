#!/usr/bin/env node
// Grammar snapshot tests over every contract example in tests/examples/. The snapshots live in
// test/snapshots/ (the examples directory stays the contract's, unchanged), so each run copies
// the examples and their snapshots to a scratch directory and runs vscode-tmgrammar-snap there.
// With --update, the fresh snapshots are copied back; review the diff before committing.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const extension = path.join(__dirname, '..');
const examples = path.join(extension, '..', '..', 'tests', 'examples');
const snapshots = path.join(extension, 'test', 'snapshots');
const update = process.argv.includes('--update');

const names = fs.readdirSync(examples).filter((name) => name.endsWith('.jspec')).sort();
if (names.length === 0) {
  console.error(`no .jspec files in ${examples}`);
  process.exit(1);
}
// The tool writes a missing snapshot and passes; a missing one must fail here instead.
const missing = names.filter((name) => !fs.existsSync(path.join(snapshots, `${name}.snap`)));
if (!update && missing.length > 0) {
  console.error(`no snapshot for ${missing.join(', ')}: run \`npm run update-snapshots\``);
  process.exit(1);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jspec-snapshots-'));
try {
  for (const name of names) {
    fs.copyFileSync(path.join(examples, name), path.join(scratch, name));
    const snap = path.join(snapshots, `${name}.snap`);
    if (fs.existsSync(snap)) fs.copyFileSync(snap, path.join(scratch, `${name}.snap`));
  }
  const tool = path.join(extension, 'node_modules', '.bin', 'vscode-tmgrammar-snap');
  // VS Code ships the XML grammar the triple-quoted strings embed; tm-grammars has a copy of it.
  const xml = require.resolve('tm-grammars/grammars/xml.json');
  const args = ['--config', path.join(extension, 'package.json'), '--grammar', xml];
  if (update) args.push('--updateSnapshot');
  args.push(path.join(scratch, '*.jspec'));
  const run = spawnSync(tool, args, { cwd: extension, stdio: 'inherit' });
  // exitCode rather than exit(): the scratch directory is removed on the way out.
  if (run.status !== 0) {
    process.exitCode = run.status ?? 1;
  } else if (update) {
    fs.mkdirSync(snapshots, { recursive: true });
    for (const name of names) {
      fs.copyFileSync(path.join(scratch, `${name}.snap`), path.join(snapshots, `${name}.snap`));
    }
    console.log(`updated ${names.length} snapshots in ${path.relative(process.cwd(), snapshots)}`);
  } else {
    console.log(`${names.length} grammar snapshots match`);
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
