// The jspec extension: highlighting and snippets are declarative (package.json); this file only
// starts the language server, `jspec lsp` over stdio, when the installed jspec has one.
'use strict';

const { spawnSync } = require('child_process');
const vscode = require('vscode');

let client;

// `jspec lsp --help` answers only when the binary exists and knows the subcommand; without it
// the extension still highlights, so a missing server is a log line, not an error pop-up.
function serverAvailable(command) {
  const probe = spawnSync(command, ['lsp', '--help'], { timeout: 5000, stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

async function activate(context) {
  const log = vscode.window.createOutputChannel('jspec');
  context.subscriptions.push(log);
  const config = vscode.workspace.getConfiguration('jspec');
  const command = config.get('server.path', 'jspec');
  if (!config.get('server.enable', true)) {
    log.appendLine('language server disabled (jspec.server.enable)');
    return;
  }
  if (!serverAvailable(command)) {
    log.appendLine(`no language server: \`${command} lsp\` is not available; highlighting only`);
    return;
  }
  // Loaded here, so a broken or missing client library cannot take highlighting down with it.
  const { LanguageClient, TransportKind } = require('vscode-languageclient/node');
  const server = { command, args: ['lsp'], transport: TransportKind.stdio };
  client = new LanguageClient(
    'jspec',
    'jspec language server',
    { run: server, debug: server },
    { documentSelector: [{ scheme: 'file', language: 'jspec' }], outputChannel: log },
  );
  try {
    await client.start();
  } catch (error) {
    log.appendLine(`language server failed to start: ${error}`);
    client = undefined;
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
