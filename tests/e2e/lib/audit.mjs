// What is checked on every page type the journey reaches: axe-core's WCAG 2.1 A and AA
// rules at a phone's and a desktop's width, a full-page screenshot at both, and the page's
// HTML exactly as the server sent it, kept for the Nu Html Checker.

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The rule sets the site promises to meet (DESIGN.md: WCAG 2.1 AA). */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** The widths every page is looked at: a small phone and a desktop. */
export const WIDTHS = [320, 1280];
const HEIGHT = 800;

export class Audit {
  /**
   * @param {string} screenshots folder for `<page type>-<width>.png`
   * @param {string} sources folder for `<page type>.html`, the bodies the server sent
   */
  constructor(screenshots, sources) {
    this.screenshots = screenshots;
    this.sources = sources;
    this.violations = [];
    this.checked = [];
    mkdirSync(screenshots, { recursive: true });
    mkdirSync(sources, { recursive: true });
    // Pictures of an earlier run would pass for this one's.
    for (const old of readdirSync(screenshots).filter((f) => f.endsWith('.png'))) {
      rmSync(join(screenshots, old));
    }
  }

  /**
   * Checks the page now in `page` as page type `name`. `response` is the navigation's
   * response, whose body goes to the HTML checker (the DOM would hide parse errors).
   */
  async check(page, name, response) {
    if (this.checked.includes(name)) throw new Error(`page type ${name} checked twice`);
    this.checked.push(name);
    if (response) writeFileSync(join(this.sources, `${name}.html`), await response.body());
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: HEIGHT });
      const path = join(this.screenshots, `${name}-${width}.png`);
      await page.screenshot({ path, fullPage: true });
      for (const v of await axe(page)) {
        this.violations.push({ page: name, width, ...v });
      }
    }
    await page.setViewportSize({ width: WIDTHS.at(-1), height: HEIGHT });
  }

  /** Every violation, one line each with the elements it was found on. */
  report() {
    return this.violations.map((v) => {
      const where = v.targets.map((t) => `\n    ${t}`).join('');
      return `${v.page} @${v.width}px: ${v.id} (${v.impact}): ${v.help}${where}`;
    });
  }
}

/** Runs axe-core in the page; returns its violations of the WCAG 2.1 A and AA rules. */
async function axe(page) {
  if (!(await page.evaluate(() => 'axe' in window))) {
    await page.addScriptTag({ content: AXE_SOURCE });
  }
  const result = await page.evaluate(
    (values) => window.axe.run(document, { runOnly: { type: 'tag', values } }),
    WCAG_TAGS,
  );
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}`),
  }));
}
