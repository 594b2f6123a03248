#!/usr/bin/env node
// Converts syntaxes/jspec.tmLanguage.yaml (the source) to jspec.tmLanguage.json (what VS Code
// loads). With --check, writes nothing and exits 1 when the JSON is out of date.
'use strict';

const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

const dir = path.join(__dirname, '..', 'syntaxes');
const source = path.join(dir, 'jspec.tmLanguage.yaml');
const target = path.join(dir, 'jspec.tmLanguage.json');

const json = JSON.stringify(yaml.load(fs.readFileSync(source, 'utf8')), null, 2) + '\n';
if (process.argv.includes('--check')) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (current !== json) {
    console.error(`${path.relative(process.cwd(), target)} is stale: run \`npm run build-grammar\``);
    process.exit(1);
  }
  console.log('grammar JSON is up to date');
} else {
  fs.writeFileSync(target, json);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}
