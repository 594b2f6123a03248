#!/usr/bin/env node
// Writes the ```jspec examples of the checked documents (the ones lang/tests/docs.rs checks) into
// a directory, one .jspec file each, so the tree-sitter grammar is tried on them too. A
// ```jspec-statements example is wrapped in a procedure, as the grammar parses whole files only.
//
// Usage: node scripts/doc-examples.js OUT_DIR   (from editors/tree-sitter-jspec)
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..', '..');
const docs = ['docs/language.md', 'docs/stdlib.md'];
const out = process.argv[2];
if (!out) {
  console.error('usage: doc-examples.js OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

let count = 0;
for (const doc of docs) {
  const lines = fs.readFileSync(path.join(root, doc), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i].match(/^```(jspec|jspec-statements)\s*$/);
    if (!fence) continue;
    const start = i + 1;
    while (i + 1 < lines.length && lines[i + 1] !== '```') i++;
    const body = lines.slice(start, i + 1).join('\n') + '\n';
    i++;
    const text = fence[1] === 'jspec' ? body : `procedure example() {\n${body}}\n`;
    // The name tells where the example is: language.md-120.jspec is the fence on line 120.
    const name = `${path.basename(doc)}-${start}.jspec`;
    fs.writeFileSync(path.join(out, name), text);
    count++;
  }
}
console.log(`${count} examples written to ${out}`);
