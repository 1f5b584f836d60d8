// The Nu Html Checker (vnu.jar from the vnu-jar package) over folders of HTML files, in one
// Java process. Only errors count; each is returned as `file:line.column: message`.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const require = createRequire(import.meta.url);
const VNU_JAR = require.resolve('vnu-jar/build/dist/vnu.jar');

/** Every `.html` file under `dir`. */
export function htmlFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.html'))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
}

/** Checks `files`; returns every error, named by its path relative to `base`. */
export function vnuErrors(files, base) {
  // With no file named, vnu.jar would wait for a document on standard input.
  if (files.length === 0) return [];
  const args = ['-jar', VNU_JAR, '--errors-only', '--format', 'json', '--exit-zero-always'];
  const options = { encoding: 'utf8', maxBuffer: 64 << 20 };
  const result = spawnSync('java', [...args, ...files], options);
  if (result.error) throw new Error(`java could not run vnu.jar: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`vnu.jar exited with ${result.status}: ${result.stderr}`);
  }
  const { messages } = JSON.parse(result.stderr);
  return messages
    .filter((m) => m.type === 'error' || m.type === 'non-document-error')
    .map((m) => {
      const file = relative(base, decodeURIComponent(new URL(m.url).pathname));
      return `${file}:${m.lastLine ?? '?'}.${m.firstColumn ?? '?'}: ${m.message}`;
    });
}
