// buurtbord in a real browser: builds (or takes) the buurtbord binary, starts
// `buurtbord serve` on a fresh copy of content/ with a fresh data folder, and drives the
// journey in headless Chromium (journey.mjs). Then it reports, and fails on, any step that
// failed, any axe-core violation of WCAG 2.1 A/AA on any page type, and any Nu Html
// Checker error in the generated site or in a page the function rendered.
//
//   node run.mjs    (from tests/e2e, after `npm ci --ignore-scripts`)
//
// BUURTBORD_BIN names a built binary to use instead of running `cargo build`;
// CHROMIUM the browser (default /usr/bin/chromium). Screenshots of every page type at
// 320 px and 1280 px go to target/screenshots/.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { Audit } from './lib/audit.mjs';
import { startServer } from './lib/server.mjs';
import { htmlFiles, vnuErrors } from './lib/vnu.mjs';
import { MODERATOR, journey } from './journey.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TARGET = resolve(REPO, process.env.CARGO_TARGET_DIR ?? 'target');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Chromium flags for a quiet, offline, headless run (the user-data-dir is a new one). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Stops the run with a message that says what to install, never skipping silently. */
function requireTools() {
  if (!existsSync(CHROMIUM)) {
    fail(`no Chromium at ${CHROMIUM}: install it (Debian: chromium) or set CHROMIUM`);
  }
  if (spawnSync('java', ['-version']).error) {
    fail('no java: the Nu Html Checker needs it (Debian: default-jre-headless)');
  }
}

function fail(message) {
  console.error(`e2e: ${message}`);
  process.exit(1);
}

/** The buurtbord binary: BUURTBORD_BIN, or a `cargo build` of the workspace's. */
function binary() {
  if (process.env.BUURTBORD_BIN) return resolve(process.env.BUURTBORD_BIN);
  const args = ['build', '--quiet', '--bin', 'buurtbord'];
  const build = spawnSync('cargo', args, { cwd: REPO, stdio: 'inherit' });
  if (build.status !== 0) fail('cargo build failed');
  return join(TARGET, 'debug', 'buurtbord');
}

async function main() {
  requireTools();
  const bin = binary();
  const work = mkdtempSync(join(tmpdir(), 'buurtbord-e2e-pages-'));
  const audit = new Audit(join(TARGET, 'screenshots'), join(work, 'function'));
  const failures = [];
  const step = async (name, body) => {
    try {
      await body();
      console.log(`ok    ${name}`);
    } catch (e) {
      console.log(`FAIL  ${name}`);
      failures.push(`${name}: ${e.stack ?? e}`);
      throw Object.assign(new Error(`step failed: ${name}`), { reported: true });
    }
  };

  const server = await startServer({ bin, repo: REPO, moderator: MODERATOR });
  // Playwright gives each launch a new, empty user-data-dir of its own.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  let vnu = [];
  let generated = [];
  try {
    const failed = (e) => e.reported || failures.push(`outside any step: ${e.stack ?? e}`);
    const failureShots = audit.screenshots;
    await journey({ browser, url: server.url, audit, step, failureShots }).catch(failed);
    generated = htmlFiles(server.dirs.out);
    const functionPages = htmlFiles(audit.sources);
    vnu = [
      ...vnuErrors(generated, server.dirs.out).map((e) => `site/${e}`),
      ...vnuErrors(functionPages, audit.sources).map((e) => `served/${e}`),
    ];
  } finally {
    await browser.close();
    if (failures.length) console.log(`\nbuurtbord serve's log:\n${server.log()}`);
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }

  const axe = audit.report();
  const types = audit.checked.length;
  console.log(`\naxe-core, WCAG 2.1 A and AA: ${types} page types at 320 and 1280 px`);
  console.log(`  ${axe.length} violations`);
  for (const line of axe) console.log(`  ${line}`);
  console.log(`Nu Html Checker: ${generated.length} generated files, ${types} pages as served`);
  console.log(`  ${vnu.length} errors`);
  for (const line of vnu) console.log(`  ${line}`);
  console.log(`screenshots: ${join(TARGET, 'screenshots')}`);
  for (const f of failures) console.log(`\n${f}`);
  if (failures.length || axe.length || vnu.length) fail('the browser checks failed (see above)');
  console.log('e2e: all browser checks passed');
}

main().catch((e) => fail(e.stack ?? String(e)));
