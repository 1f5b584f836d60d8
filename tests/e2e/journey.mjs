// The whole product in a real browser, as the people in DESIGN.md use it: a resident asks
// for help through the form (with one mistake first), a moderator approves in /beheer, the
// resident finds the post in their municipality, a neighbour responds to it, the poster
// edits the online post with the private link (with one mistake first) and the moderator
// approves the edit, after which the new text is online at the same address; the poster
// asks for a new link at /link-kwijt, a neighbour reports the post (and the moderator
// leaves it online), the moderator reads the figures and downloads them as CSV, and the
// poster reads the response and marks the post as helped with the private link, after
// which it has left the listing. Every page type met on the way goes through the audit
// (axe-core, screenshots, the HTML as sent for the Nu Html Checker).
//
// Nothing here waits for a fixed time: every step waits for a navigation, an element or a
// condition. The one condition on the clock is the forms' spam check, which refuses a form
// sent back within MIN_FILL_SECONDS of being rendered; the test waits until the form's own
// signed timestamp is that old, as a resident who types takes longer anyway.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/** submit-fn's `spam::MIN_FILL_SECONDS`. */
const MIN_FILL_SECONDS = 3;

export const MODERATOR = {
  email: 'vrijwilliger@example.org',
  password: 'een lang genoeg wachtwoord',
};

/** The resident who asks for help, with a title that careless escaping would break. */
const POSTER = {
  title: 'Wie snoeit mijn heg & tuin <voor de zomer> 🌳',
  body: 'Mijn heg is te hoog geworden.\n\nWie kan een uurtje helpen? Ik zorg voor koffie.',
  category: 'tuin',
  municipality: 'huizen',
  municipalityName: 'Huizen',
  displayName: 'Truus',
  badEmail: 'truus.example.org',
  email: 'truus@example.org',
  phone: '06-12345678',
};

/** The poster's edit of the online post: a new title and text, which keep the address. */
const EDIT = {
  title: 'Wie snoeit mijn heg & struiken <vóór juni>? 🌳',
  body:
    'Mijn heg en de struiken zijn te hoog geworden.\n\n' +
    'Wie kan op zaterdag een uurtje helpen? Ik zorg voor koffie.',
};

/** The columns of the figures' CSV (submit-fn/messages.nl.yaml, `figure_columns`). */
const FIGURE_COLUMNS = 'maand;gemeente;categorie;hulpvragen;hulpaanbod;reacties;geholpen';

const NEIGHBOUR = {
  name: 'Henk',
  contact: 'henk@example.org',
  message: 'Ik kom zaterdag met mijn heggenschaar. Koffie is goed!',
  report: 'Er staat een huisnummer in.',
};

/** A resident who phoned the volunteer centre; a moderator enters the post. */
const PHONED = {
  title: 'Wie leest mij voor uit de krant?',
  displayName: 'Wim',
  category: 'gezelschap',
  municipality: 'laren',
  body: 'Mijn ogen worden slechter. Wie leest mij één keer per week voor?',
  phone: '035-1234567',
};

/** Runs `action` and returns the response of the navigation it causes (after redirects). */
async function go(page, action) {
  const [response] = await Promise.all([page.waitForNavigation(), action()]);
  assert.ok(response, 'the action led to a new document');
  return response;
}

/** The form field labelled exactly `text`, within `scope` (a page or a locator). */
const field = (scope, text) => scope.getByLabel(text, { exact: true });

/** The section (or other element) headed `name`. */
const headed = (page, name, element = 'section') =>
  page.locator(element, { has: page.getByRole('heading', { name }) });

/** Follows the link named `name` (within `scope`); returns the navigation's response. */
const follow = (page, name, scope = page) =>
  go(page, () => scope.getByRole('link', { name }).first().click());

/** Presses the button named `name` (within `scope`); returns the navigation's response. */
const press = (page, name, scope = page) =>
  go(page, () => scope.getByRole('button', { name }).click());

/** Waits until the form on the page was rendered at least MIN_FILL_SECONDS ago. */
async function waitUntilFormMayBeSent(page) {
  const token = await page.locator('input[name="form_token"]').inputValue();
  const renderedAt = Number(token.split('.')[0]);
  assert.ok(Number.isInteger(renderedAt), `form token ${token} starts with its unix second`);
  await page.waitForFunction(
    ([at, min]) => Math.floor(Date.now() / 1000) - at >= min,
    [renderedAt, MIN_FILL_SECONDS],
    { polling: 100 },
  );
}

/** Fills the request form as a resident would, with `email` as the address. */
async function fillForm(page, email) {
  await field(page, 'Ik zoek hulp').check();
  await field(page, 'Titel').fill(POSTER.title);
  await field(page, 'Uw bericht').fill(POSTER.body);
  await field(page, 'Soort hulp').selectOption(POSTER.category);
  await field(page, 'Gemeente').selectOption(POSTER.municipality);
  await field(page, 'Uw voornaam of bijnaam').fill(POSTER.displayName);
  await field(page, 'E-mailadres').fill(email);
  await field(page, 'Telefoonnummer').fill(POSTER.phone);
  await page.locator('#veld-consent').check();
}

/** Everything the resident typed is still in the form. */
async function assertValuesKept(page, email) {
  const value = (label) => field(page, label).inputValue();
  assert.equal(await field(page, 'Ik zoek hulp').isChecked(), true, 'kind kept');
  assert.equal(await value('Titel'), POSTER.title);
  assert.equal(await value('Uw bericht'), POSTER.body);
  assert.equal(await value('Soort hulp'), POSTER.category);
  assert.equal(await value('Gemeente'), POSTER.municipality);
  assert.equal(await value('Uw voornaam of bijnaam'), POSTER.displayName);
  assert.equal(await value('E-mailadres'), email);
  assert.equal(await value('Telefoonnummer'), POSTER.phone);
  assert.equal(await page.locator('#veld-consent').isChecked(), true, 'consent kept');
}

/** A resident asks for help from the home page; returns the private management link. */
async function residentAsksForHelp(page, audit, url, step) {
  await step('resident opens the home page', async () => {
    await audit.check(page, 'home', await go(page, () => page.goto(`${url}/`)));
  });
  await step('the static form and a content page', async () => {
    const form = await go(page, () => page.goto(`${url}/vraag-hulp/`));
    await audit.check(page, 'form-static', form);
    const about = await follow(page, 'Over ons', page.getByRole('contentinfo'));
    await audit.check(page, 'content-page', about);
    await go(page, () => page.goto(`${url}/`));
  });
  await step('resident goes to the form under "Ik zoek hulp"', async () => {
    const response = await follow(page, 'Vraag om hulp', headed(page, 'Ik zoek hulp'));
    assert.match(page.url(), /\/plaatsen\?kind=request$/);
    await audit.check(page, 'form', response);
  });
  await step('resident sends the form with a mistake and sees every value kept', async () => {
    await fillForm(page, POSTER.badEmail);
    await waitUntilFormMayBeSent(page);
    const response = await press(page, 'Versturen');
    assert.equal(response.status(), 400);
    const summary = page.getByRole('alert');
    await summary.getByRole('heading', { name: 'Er is nog iets niet goed' }).waitFor();
    assert.equal(await summary.getByRole('link').count(), 1, 'one mistake, one link');
    assert.match(await summary.getByRole('link').getAttribute('href'), /#veld-email$/);
    await assertValuesKept(page, POSTER.badEmail);
    await audit.check(page, 'form-with-errors', response);
  });
  let manageUrl;
  await step('resident corrects the mistake and reaches the confirmation', async () => {
    await page.getByRole('alert').getByRole('link').click();
    await field(page, 'E-mailadres').fill(POSTER.email);
    await waitUntilFormMayBeSent(page);
    const response = await press(page, 'Versturen');
    assert.match(page.url(), /\/bedankt\/[0-9A-Z]{26}\?token=/);
    await page.getByRole('heading', { level: 1, name: /Bedankt/ }).waitFor();
    await audit.check(page, 'confirmation', response);
    manageUrl = await page.locator('.beheerlink a').getAttribute('href');
    assert.match(manageUrl, /\/beheer-bericht\//);
  });
  await step('poster opens the management link while the post waits', async () => {
    const response = await go(page, () => page.goto(manageUrl));
    await page.getByText('Uw bericht wacht nog op een vrijwilliger.').waitFor();
    await audit.check(page, 'management-waiting', response);
  });
  return manageUrl;
}

/** The moderator logs in at /beheer, looks at the post and its preview, and approves. */
async function moderatorApproves(page, audit, url, step) {
  const approve = 'Goedkeuren en op de site zetten';
  await step('moderator logs in at /beheer (once with a wrong password)', async () => {
    const response = await go(page, () => page.goto(`${url}/beheer`));
    assert.match(page.url(), /\/beheer\/inloggen/);
    await audit.check(page, 'login', response);
    await field(page, 'E-mailadres').fill(MODERATOR.email);
    await field(page, 'Wachtwoord').fill('niet het wachtwoord');
    const wrong = await press(page, 'Inloggen');
    await page.getByRole('alert').waitFor();
    await audit.check(page, 'login-error', wrong);
    await field(page, 'E-mailadres').fill(MODERATOR.email);
    await field(page, 'Wachtwoord').fill(MODERATOR.password);
    const queue = await press(page, 'Inloggen');
    await page.getByRole('heading', { level: 1, name: 'Berichten die wachten' }).waitFor();
    await audit.check(page, 'queue', queue);
  });
  await step('moderator opens the post and its preview', async () => {
    const item = await follow(page, POSTER.title);
    await page.getByRole('heading', { level: 1, name: POSTER.title }).waitFor();
    await audit.check(page, 'queue-item', item);
    const preview = await follow(page, 'Open het voorbeeld op een eigen pagina');
    await page.getByRole('heading', { level: 1, name: POSTER.title }).waitFor();
    await audit.check(page, 'preview', preview);
    await page.goBack();
    await page.getByRole('button', { name: approve }).waitFor();
  });
  await step('moderator looks at the correction form, then approves as it is', async () => {
    const correct = await follow(page, 'Eerst iets verbeteren, dan goedkeuren');
    assert.equal(await page.locator('#veld-title').inputValue(), POSTER.title);
    await audit.check(page, 'correct-form', correct);
    await page.goBack();
    const response = await press(page, approve);
    await page.getByRole('status').getByText(/Goedgekeurd/).waitFor();
    await audit.check(page, 'queue-after-approval', response);
  });
  await step('moderator reads the log and the settings', async () => {
    await audit.check(page, 'audit-log', await follow(page, 'Logboek'));
    await page.getByRole('cell', { name: /goedgekeurd/ }).first().waitFor();
    await follow(page, 'Terug naar de wachtrij');
    await audit.check(page, 'settings', await follow(page, /Mijn instellingen/));
    await follow(page, 'Terug naar de wachtrij');
  });
  await step('moderator enters a post for a resident who phoned', async () => {
    await audit.check(page, 'entry', await follow(page, 'Bericht invoeren voor een bewoner'));
    const refused = await press(page, 'Op de site zetten');
    await page.getByRole('alert').waitFor();
    await audit.check(page, 'entry-with-errors', refused);
    await page.locator('#veld-title').fill(PHONED.title);
    await page.locator('#veld-display_name').fill(PHONED.displayName);
    await page.locator('#veld-category').selectOption(PHONED.category);
    await page.locator('#veld-municipality').selectOption(PHONED.municipality);
    await page.locator('#veld-body').fill(PHONED.body);
    await page.locator('#veld-phone').fill(PHONED.phone);
    await page.locator('#veld-consent').check();
    const entered = await press(page, 'Op de site zetten');
    await page.getByRole('heading', { level: 1, name: 'Het bericht staat op de site' }).waitFor();
    await audit.check(page, 'entry-done', entered);
  });
}

/** The resident finds the post in their municipality's listing; returns the post's URL. */
async function residentFindsThePost(page, audit, url, step) {
  let postUrl;
  await step('resident finds the post in the Huizen listing', async () => {
    await go(page, () => page.goto(`${url}/`));
    const places = headed(page, 'Kies uw gemeente');
    const listing = await go(page, () =>
      places.getByRole('link', { name: POSTER.municipalityName, exact: true }).click(),
    );
    assert.match(page.url(), /\/gemeente\/huizen\/$/);
    await audit.check(page, 'listing', listing);
    const post = await follow(page, POSTER.title);
    const heading = page.getByRole('heading', { level: 1 });
    assert.equal(await heading.textContent(), POSTER.title, 'the title survives & < and emoji');
    await audit.check(page, 'post', post);
    postUrl = page.url();
  });
  await step('the other listings: by kind, by category, a second page', async () => {
    const menu = page.getByRole('navigation', { name: 'Hoofdmenu' });
    await audit.check(page, 'listing-kind', await follow(page, 'Hulpvragen', menu));
    const next = await follow(page, 'Volgende pagina');
    assert.match(page.url(), /\/2\/$/);
    await audit.check(page, 'listing-page-2', next);
    const category = await go(page, () => page.goto(`${url}/categorie/tuin/`));
    await audit.check(page, 'listing-category', category);
  });
  return postUrl;
}

/** A neighbour answers the post through its "Reageer" form. */
async function neighbourResponds(page, audit, postUrl, step) {
  await step('a neighbour responds on the post page', async () => {
    await go(page, () => page.goto(postUrl));
    const form = headed(page, 'Reageer');
    await field(form, 'Uw naam').fill(NEIGHBOUR.name);
    await field(form, 'Uw e-mailadres of telefoonnummer').fill(NEIGHBOUR.contact);
    await field(form, 'Uw reactie').fill(NEIGHBOUR.message);
    // The static post page carries no signed form time, so the function shows the form
    // once more with everything kept, to be sent again.
    const again = await press(page, 'Reactie versturen', form);
    assert.equal(await field(page, 'Uw reactie').inputValue(), NEIGHBOUR.message);
    await audit.check(page, 'response-form', again);
    await waitUntilFormMayBeSent(page);
    const sent = await press(page, 'Reactie versturen');
    await page.getByRole('heading', { level: 1, name: /uw reactie is verstuurd/ }).waitFor();
    await audit.check(page, 'response-sent', sent);
  });
}

/**
 * A neighbour reports the post with "Meld dit bericht". (Not a sample post: those are in
 * content/ but not in the queue store, so the function treats them as no longer online.)
 */
async function neighbourReports(page, audit, postUrl, step) {
  const reason = 'Wat is er mis met dit bericht?';
  await step('a neighbour reports the post', async () => {
    await go(page, () => page.goto(postUrl));
    const form = headed(page, 'Meld dit bericht');
    await field(form, reason).selectOption('persoonlijk');
    await form.getByLabel(/Wilt u nog iets uitleggen/).fill(NEIGHBOUR.report);
    // As with a response: the static page has no form time, so the form comes back once.
    const again = await press(page, 'Melding versturen', form);
    assert.equal(await field(page, reason).inputValue(), 'persoonlijk');
    await audit.check(page, 'report-form', again);
    await waitUntilFormMayBeSent(page);
    const sent = await press(page, 'Melding versturen');
    await page.getByRole('heading', { level: 1, name: 'Bedankt voor uw melding' }).waitFor();
    await audit.check(page, 'report-sent', sent);
  });
}

/** The moderator reads the report and leaves the post online. */
async function moderatorHandlesTheReport(page, audit, url, postUrl, step) {
  await step('moderator reads the report and leaves the post online', async () => {
    await go(page, () => page.goto(`${url}/beheer`));
    const reports = await follow(page, /Meldingen van lezers/);
    const post = headed(page, EDIT.title);
    await post.getByText(NEIGHBOUR.report).waitFor();
    const link = post.getByRole('link', { name: 'Bekijk het bericht' });
    assert.equal(await link.getAttribute('href'), postUrl, 'the address the post is online at');
    await audit.check(page, 'reports', reports);
    const kept = await press(page, /laten staan/, post);
    await page.getByRole('status').getByText(/Blijft staan/).waitFor();
    await audit.check(page, 'reports-handled', kept);
  });
}

/** Every field of the edit form still holds what the poster typed, `email` included. */
async function assertEditKept(page, email) {
  const value = (label) => field(page, label).inputValue();
  assert.equal(await field(page, 'Ik zoek hulp').isChecked(), true, 'kind kept');
  assert.equal(await value('Titel'), EDIT.title);
  assert.equal(await value('Uw bericht'), EDIT.body);
  assert.equal(await value('Soort hulp'), POSTER.category);
  assert.equal(await value('Gemeente'), POSTER.municipality);
  assert.equal(await value('Uw voornaam of bijnaam'), POSTER.displayName);
  assert.equal(await value('E-mailadres'), email);
  assert.equal(await value('Telefoonnummer'), POSTER.phone);
}

/** The poster edits the online post with the private link; the edit waits for a moderator. */
async function posterEditsThePost(page, audit, manageUrl, step) {
  await step('poster opens the edit form from the management page', async () => {
    await go(page, () => page.goto(manageUrl));
    await page.getByText('Uw bericht staat op de site.').waitFor();
    const form = await press(page, 'Bericht aanpassen');
    assert.match(page.url(), /\/beheer-bericht\/[0-9A-Z]{26}\/wijzigen\?token=/);
    await page.getByRole('heading', { level: 1, name: 'Uw bericht aanpassen' }).waitFor();
    assert.equal(await field(page, 'Titel').inputValue(), POSTER.title, 'filled with the post');
    assert.equal(await field(page, 'Uw bericht').inputValue(), POSTER.body);
    await audit.check(page, 'edit-form', form);
  });
  await step('poster sends an edit with a mistake and sees every value kept', async () => {
    await field(page, 'Titel').fill(EDIT.title);
    await field(page, 'Uw bericht').fill(EDIT.body);
    await field(page, 'E-mailadres').fill(POSTER.badEmail);
    const response = await press(page, 'Versturen');
    assert.equal(response.status(), 400);
    const summary = page.getByRole('alert');
    await summary.getByRole('heading', { name: 'Er is nog iets niet goed' }).waitFor();
    assert.equal(await summary.getByRole('link').count(), 1, 'one mistake, one link');
    assert.match(await summary.getByRole('link').getAttribute('href'), /#veld-email$/);
    await assertEditKept(page, POSTER.badEmail);
    await audit.check(page, 'edit-form-with-errors', response);
  });
  await step('poster corrects the edit; the management page says it waits', async () => {
    await page.getByRole('alert').getByRole('link').click();
    await field(page, 'E-mailadres').fill(POSTER.email);
    const response = await press(page, 'Versturen');
    assert.match(page.url(), /\/beheer-bericht\/[0-9A-Z]{26}\?token=.*&uitkomst=edit_queued$/);
    const notice = page.getByRole('status');
    await notice.getByText(/Een vrijwilliger bekijkt uw wijziging/).waitFor();
    await page.getByText(/Een vrijwilliger bekijkt die wijziging nog/).waitFor();
    await audit.check(page, 'management-edit-waiting', response);
  });
}

/** The moderator reads the edit of the online post in /beheer and approves it. */
async function moderatorApprovesTheEdit(page, audit, url, step) {
  const heading = 'Wijziging van een gepubliceerd bericht';
  await step('moderator opens the edit from the queue, with its changes and preview', async () => {
    await go(page, () => page.goto(`${url}/beheer`));
    // Listed under the title that is online until the edit is approved.
    const revision = await follow(page, `${heading}: ${POSTER.title}`);
    assert.match(page.url(), /\/beheer\/wijziging\/[0-9A-Z]{26}$/);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    const changes = page.getByRole('table', { name: /Veranderde gegevens/ });
    const title = changes.getByRole('row', { name: /^Titel / });
    await title.getByRole('cell', { name: POSTER.title, exact: true }).waitFor();
    await title.getByRole('cell', { name: EDIT.title, exact: true }).waitFor();
    const body = changes.getByRole('row', { name: /^Uw bericht / });
    await body.waitFor();
    // Paragraphs show as line breaks, not as the text of a tag.
    assert.equal(await body.locator('td br').count(), 4, 'two line breaks before and after');
    assert.doesNotMatch(await body.textContent(), /<br>/);
    const rows = await changes.getByRole('rowheader').allTextContents();
    assert.deepEqual(rows, ['Titel', 'Uw bericht'], 'only the changed fields');
    await audit.check(page, 'revision', revision);
    const preview = await follow(page, 'Open het voorbeeld op een eigen pagina');
    await page.getByRole('heading', { level: 1, name: EDIT.title }).waitFor();
    await audit.check(page, 'revision-preview', preview);
    await page.goBack();
    await page.getByRole('button', { name: 'Wijziging goedkeuren en op de site zetten' }).waitFor();
  });
  await step('moderator approves the edit', async () => {
    const response = await press(page, 'Wijziging goedkeuren en op de site zetten');
    await page.getByRole('status').getByText(/De wijziging is goedgekeurd/).waitFor();
    const waiting = page.getByRole('link', { name: new RegExp(heading) });
    assert.equal(await waiting.count(), 0, 'no edit waits any more');
    await audit.check(page, 'queue-after-revision', response);
  });
}

/** The post page shows the new text at the address it had; the poster asks for a new link. */
async function posterSeesTheEditAndAsksForANewLink(page, audit, postUrl, step) {
  await step('the post page shows the new text at the same address', async () => {
    const response = await go(page, () => page.goto(postUrl));
    assert.equal(response.status(), 200);
    assert.equal(page.url(), postUrl);
    const heading = page.getByRole('heading', { level: 1 });
    assert.equal(await heading.textContent(), EDIT.title, 'the new title, & < and emoji intact');
    await page.getByText('Wie kan op zaterdag een uurtje helpen?').waitFor();
    assert.equal(await page.getByText('Mijn heg is te hoog geworden.').count(), 0);
    await audit.check(page, 'post-revised', response);
  });
  await step('poster follows "Link kwijt?" and asks for a new link', async () => {
    const form = await follow(page, 'Link kwijt?');
    assert.match(page.url(), /\/link-kwijt$/);
    await page.getByRole('heading', { level: 1, name: 'Link kwijt?' }).waitFor();
    await audit.check(page, 'lost-link', form);
    await field(page, 'E-mailadres').fill(POSTER.email);
    await waitUntilFormMayBeSent(page);
    // The answer comes after about two seconds on purpose; the navigation waits for it.
    const sent = await press(page, 'Stuur mij een nieuwe link');
    assert.equal(sent.status(), 200);
    assert.match(page.url(), /\/link-kwijt$/);
    await page.getByRole('heading', { level: 1, name: 'Kijk in uw e-mail' }).waitFor();
    await audit.check(page, 'lost-link-sent', sent);
  });
}

/** The moderator reads the figures for the municipality and downloads them as CSV. */
async function moderatorReadsTheFigures(page, audit, url, step) {
  await step('moderator reads the figures and downloads them as CSV', async () => {
    await go(page, () => page.goto(`${url}/beheer`));
    const figures = await follow(page, 'Cijfers voor de gemeente');
    assert.match(page.url(), /\/beheer\/cijfers$/);
    await page.getByRole('heading', { level: 1, name: 'Cijfers voor de gemeente' }).waitFor();
    const table = page.getByRole('table', { name: /per maand, gemeente en soort hulp/ });
    const total = table.getByRole('row', { name: /^Totaal / });
    await total.waitFor();
    await audit.check(page, 'figures', figures);

    const link = page.getByRole('link', { name: /als CSV-bestand/ });
    const csvUrl = new URL(await link.getAttribute('href'), page.url()).href;
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), 'buurtbord-cijfers.csv');
    const text = readFileSync(await download.path(), 'utf8');
    assert.ok(text.startsWith('\uFEFF'), 'a byte order mark, so a spreadsheet reads UTF-8');
    const lines = text.slice(1).trim().split(/\r?\n/);
    assert.equal(lines[0], FIGURE_COLUMNS, 'a header row');
    assert.ok(lines.length >= 2, `rows under the header: ${lines.join(' | ')}`);
    const response = await page.request.get(csvUrl);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'], /^text\/csv/);
  });
}

/** The poster marks the post as helped; it leaves the listing and its page is gone. */
async function posterIsHelped(page, audit, url, manageUrl, postUrl, step) {
  await step('poster reads the response and marks the post as helped', async () => {
    const online = await go(page, () => page.goto(manageUrl));
    await page.getByText('Uw bericht staat op de site.').waitFor();
    const responses = page.locator('.reacties');
    await responses.getByText(NEIGHBOUR.message).waitFor();
    await responses.getByRole('link', { name: NEIGHBOUR.contact }).waitFor();
    await audit.check(page, 'management-online', online);
    const asked = await press(page, 'Ik ben geholpen');
    await page.getByRole('heading', { name: 'Weet u het zeker?' }).waitFor();
    await audit.check(page, 'management-confirm', asked);
    const helped = await press(page, 'Ja, ik ben geholpen');
    await page.getByRole('status').getByText('Fijn dat u geholpen bent!').waitFor();
    await audit.check(page, 'management-helped', helped);
  });
  await step('the post is gone from the listing and its page is a 404', async () => {
    await go(page, () => page.goto(`${url}/gemeente/huizen/`));
    await page.getByRole('heading', { level: 1 }).waitFor();
    const link = page.getByRole('link', { name: EDIT.title });
    assert.equal(await link.count(), 0, 'the listing dropped the post');
    const gone = await go(page, () => page.goto(postUrl));
    assert.equal(gone.status(), 404);
    const missing = 'Deze pagina bestaat niet (meer)';
    await page.getByRole('heading', { level: 1, name: missing }).waitFor();
    await audit.check(page, 'not-found', gone);
  });
  await step('a management link with a wrong token gets the function\'s own page', async () => {
    const wrong = manageUrl.replace(/token=[^&]+/, 'token=niet-het-goede-token');
    const response = await go(page, () => page.goto(wrong));
    assert.equal(response.status(), 404);
    await audit.check(page, 'function-not-found', response);
  });
}

/** The whole journey, with a browser context per person. */
export async function journey({ browser, url, audit, step, failureShots }) {
  // bypassCSP lets axe-core in; /beheer's policy allows no scripts at all.
  const options = { bypassCSP: true };
  const resident = await browser.newContext(options);
  const moderator = await browser.newContext(options);
  const neighbour = await browser.newContext(options);
  try {
    const [residentPage, moderatorPage, neighbourPage] = await Promise.all(
      [resident, moderator, neighbour].map((context) => context.newPage()),
    );
    const manageUrl = await residentAsksForHelp(residentPage, audit, url, step);
    await moderatorApproves(moderatorPage, audit, url, step);
    const postUrl = await residentFindsThePost(residentPage, audit, url, step);
    await neighbourResponds(neighbourPage, audit, postUrl, step);
    await posterEditsThePost(residentPage, audit, manageUrl, step);
    await moderatorApprovesTheEdit(moderatorPage, audit, url, step);
    await posterSeesTheEditAndAsksForANewLink(residentPage, audit, postUrl, step);
    await neighbourReports(neighbourPage, audit, postUrl, step);
    await moderatorHandlesTheReport(moderatorPage, audit, url, postUrl, step);
    await moderatorReadsTheFigures(moderatorPage, audit, url, step);
    await posterIsHelped(residentPage, audit, url, manageUrl, postUrl, step);
  } catch (e) {
    // Where each person was when it failed, for whoever reads the report.
    for (const [who, context] of Object.entries({ resident, moderator, neighbour })) {
      for (const page of context.pages()) {
        await page.screenshot({ path: `${failureShots}/FAILED-${who}.png`, fullPage: true });
        console.log(`FAILED-${who}.png: ${page.url()}`);
      }
    }
    throw e;
  } finally {
    await Promise.all([resident.close(), moderator.close(), neighbour.close()]);
  }
}
