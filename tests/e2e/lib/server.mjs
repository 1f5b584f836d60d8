// A real `buurtbord serve` on a free loopback port, on a fresh copy of the sample content
// and a data folder that does not exist yet, with one moderator added through the CLI.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long the first build and start may take before the run gives up. */
const START_DEADLINE_MS = 120_000;

/** The port the kernel hands out for 127.0.0.1:0, released again for the server to take. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Adds a moderator with `buurtbord moderator add … --password-stdin`. */
function addModerator(bin, dirs, email, password) {
  const args = ['moderator', 'add', email, '--password-stdin', '--data', dirs.data];
  const result = spawnSync(bin, args, {
    input: `${password}\n`,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`buurtbord moderator add failed (${result.status}): ${result.stderr}`);
  }
}

/** True once the process has ended, by itself or by a signal. */
const hasExited = (child) => child.exitCode !== null || child.signalCode !== null;

/** Resolves once the server answers `/` with 200, polling the port it was given. */
async function ready(url, child, logPath) {
  const deadline = Date.now() + START_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      const how = child.exitCode ?? child.signalCode;
      throw new Error(`buurtbord serve exited (${how}):\n${readFileSync(logPath)}`);
    }
    const status = await fetch(url).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`buurtbord serve did not answer on ${url}:\n${readFileSync(logPath)}`);
}

/**
 * Starts `buurtbord serve` in a new temporary folder. Returns its base URL, the folders it
 * uses (`out` holds the generated site) and `stop()`, which ends it and removes the folder.
 */
export async function startServer({ bin, repo, moderator }) {
  const root = mkdtempSync(join(tmpdir(), 'buurtbord-e2e-'));
  const dirs = {
    root,
    content: join(root, 'content'),
    data: join(root, 'data'),
    out: join(root, 'public'),
    log: join(root, 'serve.log'),
  };
  cpSync(join(repo, 'content'), dirs.content, { recursive: true });
  addModerator(bin, dirs, moderator.email, moderator.password);

  const port = await freePort();
  const log = openSync(dirs.log, 'w');
  const args = ['serve', '--port', String(port), '--content', dirs.content];
  args.push('--theme', join(repo, 'themes/default'), '--out', dirs.out, '--data', dirs.data);
  const child = spawn(bin, args, { stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!hasExited(child)) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await ready(`${url}/`, child, dirs.log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, dirs, stop, log: () => readFileSync(dirs.log, 'utf8') };
}
