#!/usr/bin/env node
// Compiles Solidity standard-JSON input from stdin with the pinned npm solc (wasm, offline) and prints
// the standard-JSON output. Imports of "@openzeppelin/..." resolve from this folder's node_modules.
const fs = require('fs');
const path = require('path');
const solc = require('solc');

if (process.argv.includes('--version')) { console.log(solc.version()); process.exit(0); }

function findImports(p) {
  const candidates = [path.join(__dirname, 'node_modules', p), path.join(process.env.LPC_CONTRACTS_DIR || '.', p), p];
  for (const c of candidates) {
    if (fs.existsSync(c)) return { contents: fs.readFileSync(c, 'utf8') };
  }
  return { error: 'File not found: ' + p };
}

let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { buf += d; });
process.stdin.on('end', () => {
  // Either one standard-JSON request or an array of them (compiled one by one, so that an error in
  // one source file does not stop the others).
  const input = JSON.parse(buf);
  if (Array.isArray(input)) {
    const outs = input.map((req) => JSON.parse(solc.compile(JSON.stringify(req), { import: findImports })));
    process.stdout.write(JSON.stringify(outs));
  } else {
    process.stdout.write(solc.compile(buf, { import: findImports }));
  }
});
