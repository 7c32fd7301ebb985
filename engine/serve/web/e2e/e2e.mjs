// Browser end-to-end test of the valueexp serve page, in headless Chromium.
//
//   node e2e.mjs URL SCREENSHOT_DIR [URL_WITHOUT_SETS]
//
// Loads the page at URL (a server with at least two value sets), sends a
// Chinese and English prompt, checks that both answers stream at the same
// time and that their tokens are coloured, changes the colouring set, hovers
// and clicks a token (tooltip with every set, per-layer chart) and selects
// one by keyboard, switches a set off and scales one and checks the edited
// answer's figures change while the plain one's stay, shows a server error,
// stops a long answer, and takes a dark-scheme and a 420 px wide shot.
// URL_WITHOUT_SETS, if given, is a server without a neuron file: the page
// must say so and still chat. Screenshots go to SCREENSHOT_DIR. Exit status 0
// means every check passed; failures are printed as "FAIL: ...".
//
// The model must write the same tokens for the same seed (a plain answer is
// sent twice and compared) and must not stop by itself at temperature 0
// within 1500 tokens (synthetic models do not).
//
// Environment: CHROMIUM (default /usr/bin/chromium), E2E_MAX_TOKENS (default
// 64), E2E_TIMEOUT_MS per wait (default 120000).
import {chromium} from 'playwright-core';
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';

const [url, dir, urlNoSets] = process.argv.slice(2);
if (!url || !dir) {
  console.error('usage: node e2e.mjs URL SCREENSHOT_DIR [URL_WITHOUT_SETS]');
  process.exit(2);
}
mkdirSync(dir, {recursive: true});
const timeout = Number(process.env.E2E_TIMEOUT_MS || 120000);
const maxTokens = String(process.env.E2E_MAX_TOKENS || 64);
const LINE = 64 * 1024;
const PROMPT = '有人捡到钱包，应该怎么做？ Answer in one sentence, please.';

let failures = 0;
function check(ok, what, detail) {
  if (ok) {
    console.log('ok:', what);
  } else {
    failures++;
    console.log('FAIL:', what + (detail !== undefined ? ': ' + JSON.stringify(detail) : ''));
  }
  return ok;
}

// must is check for a step the rest depends on: it stops the run.
class Fatal extends Error {}
function must(ok, what, detail) {
  if (!check(ok, what, detail)) throw new Fatal(what);
}

const t0 = Date.now();
const step = (name) => console.log(`-- [${((Date.now() - t0) / 1000).toFixed(1)} s]`, name);

// withoutSets checks the page against a server without a neuron file: it
// says so, and chatting still works on both sides.
async function withoutSets(context, url) {
  step('load a server without value sets');
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push('console: ' + m.text());
  });
  const res = await page.goto(url);
  must(res && res.ok(), 'the page loads', res && res.status());
  await page.waitForFunction(() => /no value sets/.test(document.querySelector('#model-info').textContent));
  check(/no neuron file/.test(await page.textContent('#sets')), 'the sets panel says the server has no neuron file');
  check(await page.isHidden('#colour-panel') && await page.isHidden('#detail'), 'the colouring and chart panels are hidden');
  check(/no value sets/.test(await page.textContent('#edited-desc')), 'the right-hand side says nothing can change');
  await page.click('#settings summary');
  await page.fill('#max-tokens', '16');
  await runPrompt(page, PROMPT);
  const errs = await page.$$eval('.turn .error', (els) => els.map((e) => e.textContent));
  check(errs.length === 0, 'no answer shows an error', errs);
  const a = await page.textContent('#side-plain .turn .answer-text');
  const b = await page.textContent('#side-edited .turn .answer-text');
  check(a.length > 0 && a === b, 'both answers have the same text', {a, b});
  await shot(page, '09-no-sets.png');
  check(pageErrors.length === 0, 'no script errors on the page', pageErrors);
}

async function shot(page, name) {
  // From the top, where the sticky sets panel sits in its place.
  await page.evaluate(() => window.scrollTo(0, 0));
  const p = join(dir, name);
  await page.screenshot({path: p, fullPage: true});
  console.log('screenshot:', p);
}

// backgrounds returns the inline background colour of every token of a side.
function backgrounds(page, side) {
  return page.$$eval(`#side-${side} .turn:last-child .tok`, (els) => els.map((e) => e.style.backgroundColor));
}

// actives returns the colouring set's share of active neurons that each
// token of a side shows (its data-active attribute).
function actives(page, side) {
  return page.$$eval(`#side-${side} .turn:last-child .tok`, (els) => els.map((e) => e.dataset.active));
}

// runPrompt types the prompt, sends it and waits until both answers are
// finished, recording when tokens arrive on each side.
async function runPrompt(page, prompt) {
  await page.evaluate(() => {
    const log = {plain: [], edited: []};
    window.__e2eArrivals = log;
    for (const side of ['plain', 'edited']) {
      const turns = document.querySelector(`#side-${side} .turns`);
      new MutationObserver((muts) => {
        let n = 0;
        for (const m of muts) for (const a of m.addedNodes) if (a.classList && a.classList.contains('tok')) n++;
        if (n) log[side].push({t: performance.now(), n});
      }).observe(turns, {childList: true, subtree: true});
    }
  });
  await page.fill('#prompt', prompt);
  await page.press('#prompt', 'Enter');
  await page.waitForFunction(() => document.querySelector('#stop').disabled === false || /done|failed/.test(document.querySelector('#run-status').textContent), null, {timeout});
  await page.waitForFunction(() => !document.querySelector('#send').disabled, null, {timeout});
  return page.evaluate(() => window.__e2eArrivals);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // Root in a container has no user namespaces for Chromium's sandbox.
  args: ['--no-sandbox', '--disable-gpu', '--lang=en-US'],
});
try {
  const context = await browser.newContext({viewport: {width: 1400, height: 1000}, locale: 'en-US'});
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push('console: ' + m.text());
  });

  // The page talks to the server over a line of LINE bytes/s: on a busy
  // machine a fast server's whole answer could otherwise reach a starved
  // browser in one read, and "the answer streams" could not be seen.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const throttle = (bytesPerSecond) => cdp.send('Network.emulateNetworkConditions',
    {offline: false, latency: 0, downloadThroughput: bytesPerSecond, uploadThroughput: -1});
  await throttle(LINE);

  step('load');
  const res = await page.goto(url);
  check(res && res.ok(), 'the page loads', res && res.status());
  check((await page.getAttribute('meta[charset]', 'charset') || '').toLowerCase() === 'utf-8', 'the page declares UTF-8');
  const lede = await page.textContent('#lede');
  check(/value neurons/i.test(lede) && /switched off/.test(lede), 'one sentence says what the reader is looking at', lede);
  await page.waitForSelector('#sets fieldset.set');
  const sets = await page.$$eval('#sets fieldset.set', (els) => els.map((e) => e.dataset.name));
  must(sets.length >= 2, 'the value sets are listed', sets);
  const options = await page.$$eval('#colour-set option', (els) => els.map((e) => e.value));
  check(JSON.stringify(options) === JSON.stringify(sets), 'the colour selector offers every set', options);
  check((await page.textContent('#banner')) === '' || await page.isHidden('#banner'), 'no error banner');
  await page.click('#settings summary');
  await page.fill('#max-tokens', maxTokens);
  await page.fill('#seed', '7');
  await shot(page, '01-loaded.png');

  step('send a Chinese and English prompt');
  const arrivals = await runPrompt(page, PROMPT);
  const status = await page.textContent('#run-status');
  const errs = await page.$$eval('.turn .error', (els) => els.map((e) => e.textContent));
  if (errs.length) await shot(page, '02-answered.png');
  must(errs.length === 0, 'no answer shows an error', errs);
  must(/done/.test(status), 'both answers finish', status);
  const userText = await page.textContent('#side-plain .turn .user-text');
  check(userText === PROMPT, 'the Chinese and English prompt is shown as typed', userText);
  const plainText = await page.textContent('#side-plain .turn .answer-text');
  const editedText = await page.textContent('#side-edited .turn .answer-text');
  check(plainText.length > 0 && editedText.length > 0, 'both answers have text', {plainText, editedText});
  check(plainText === editedText, 'with no set changed both answers are the same (same seed)', {plainText, editedText});
  for (const side of ['plain', 'edited']) {
    const a = arrivals[side];
    const total = a.reduce((s, x) => s + x.n, 0);
    check(a.length >= 2, `the ${side} answer streams (tokens arrive in ${a.length} separate updates)`, a.length);
    check(total >= 2, `the ${side} answer has tokens`, total);
  }
  if (arrivals.plain.length && arrivals.edited.length) {
    const p = arrivals.plain;
    const e = arrivals.edited;
    const overlap = p[0].t < e[e.length - 1].t && e[0].t < p[p.length - 1].t;
    check(overlap, 'the two answers stream at the same time', {plain: [p[0].t, p[p.length - 1].t], edited: [e[0].t, e[e.length - 1].t]});
  }
  const firstChosen = await page.inputValue('#colour-set');
  const bgPlain1 = await backgrounds(page, 'plain');
  const activePlain1 = await actives(page, 'plain');
  must(bgPlain1.length > 1 && bgPlain1.every((b) => b.startsWith('rgb')), 'every token is coloured', bgPlain1.slice(0, 5));
  await shot(page, '02-answered.png');

  step('colour by another set');
  const other = sets.find((s) => s !== firstChosen);
  await page.selectOption('#colour-set', other);
  const bgPlain2 = await backgrounds(page, 'plain');
  check(bgPlain2.length === bgPlain1.length && bgPlain2.some((b, i) => b !== bgPlain1[i]),
    `colouring by ${other} instead of ${firstChosen} changes the token colours`, {before: bgPlain1.slice(0, 6), after: bgPlain2.slice(0, 6)});
  check(await page.isChecked('#stretch'), 'the colours are stretched over the range shown by default');
  await page.uncheck('#stretch');
  const bgAbsolute = await backgrounds(page, 'plain');
  check(bgAbsolute.some((b, i) => b !== bgPlain2[i]), 'colouring on the absolute 0–100% scale changes the colours', bgAbsolute.slice(0, 6));
  await page.check('#stretch');

  step('hover and click a token');
  const tok = page.locator('#side-plain .turn:last-child .tok').nth(1);
  await tok.hover();
  await page.waitForSelector('#tooltip:not([hidden])');
  const rows = await page.$$eval('#tooltip tbody tr', (els) => els.map((e) => e.querySelector('th').textContent));
  check(JSON.stringify([...rows].sort()) === JSON.stringify([...sets].sort()), 'hovering a token shows every monitored set', rows);
  const chosenRow = await page.$$eval('#tooltip tr.chosen th', (els) => els.map((e) => e.textContent));
  check(chosenRow.length === 1 && chosenRow[0] === other, 'the tooltip marks the colouring set', chosenRow);
  await shot(page, '03-hover.png');
  await tok.click();
  await page.waitForSelector('#chart svg rect');
  const bars = await page.$$eval('#chart svg rect.bar-a', (els) => els.map((e) => Number(e.dataset.layer)));
  const otherLayers = await page.evaluate((name) => {
    const fs = [...document.querySelectorAll('#sets fieldset.set')].find((f) => f.dataset.name === name);
    return fs ? fs.querySelector('.set-meta').textContent : '';
  }, other);
  check(bars.length >= 1, 'clicking a token draws the per-layer chart', {bars, otherLayers});
  check(bars.every((l, i) => i === 0 || l > bars[i - 1]), 'the chart\'s layers are in ascending order', bars);
  const heights = await page.$$eval('#chart svg rect.bar-a', (els) => els.map((e) => Number(e.getAttribute('height'))));
  check(heights.every((h) => h >= 0 && isFinite(h)), 'the bars have finite heights', heights);
  await tok.blur();
  await page.mouse.move(0, 0);
  await shot(page, '04-chart.png');

  step('keyboard: focus a token and press Enter');
  const tok2 = page.locator('#side-edited .turn:last-child .tok').nth(2);
  await tok2.focus();
  await page.keyboard.press('Enter');
  const hint = await page.textContent('#detail-hint');
  check(/number 3 of the answer with your changes/.test(hint), 'Enter on a focused token selects it', hint);

  step('switch a value set off and send again');
  await page.selectOption('#colour-set', firstChosen);
  await page.click('#clear');
  const idx = sets.indexOf(firstChosen);
  await page.check(`#sets fieldset.set:nth-child(${idx + 1}) input[value="off"]`);
  const desc = await page.textContent('#edited-desc');
  check(desc.includes(firstChosen), 'the right-hand side names the change', desc);
  await runPrompt(page, PROMPT);
  const status2 = await page.textContent('#run-status');
  check(/done/.test(status2), 'both answers finish again', status2);
  const plainAgain = await page.textContent('#side-plain .turn .answer-text');
  check(plainAgain === plainText, 'the plain answer is the same as before (same seed and prompt)', {plainText, plainAgain});
  const bgP = await backgrounds(page, 'plain');
  const bgE = await backgrounds(page, 'edited');
  // The colours of the plain answer may move (the stretched range now
  // includes the edited answer); its figures may not.
  check(JSON.stringify(await actives(page, 'plain')) === JSON.stringify(activePlain1), 'the plain answer has the same figures as before', activePlain1.slice(0, 6));
  check(bgE.length > 0 && JSON.stringify(bgE) !== JSON.stringify(bgP), `switching ${firstChosen} off changes the colouring of the edited answer`, {plain: bgP.slice(0, 6), edited: bgE.slice(0, 6)});
  const editedActive = await actives(page, 'edited');
  console.log('edited answer, share of', firstChosen, 'active per token:', editedActive.join(' '));
  await shot(page, '05-switched-off.png');

  check(pageErrors.length === 0, 'no script errors on the page', pageErrors);

  step('a server error is shown readably');
  await page.route('**/v1/chat/completions', (route) => route.fulfill({
    status: 400, contentType: 'application/json',
    body: JSON.stringify({error: {message: 'unknown value set "勇气/zh"; known: 诚信/zh', type: 'invalid_request_error', param: 'valueexp.deactivate[0]', code: null}}),
  }));
  await runPrompt(page, 'hello');
  const errors = await page.$$eval('.turn:last-child .error', (els) => els.map((e) => e.textContent));
  check(errors.length === 2 && errors.every((e) => e.includes('400') && e.includes('勇气/zh') && e.includes('valueexp.deactivate[0]')),
    'a 400 from the server is shown in both columns with its message and field', errors);
  check(await page.inputValue('#prompt') === 'hello', 'the refused message is back in the box for another try');
  await page.unroute('**/v1/chat/completions');
  await shot(page, '06-error.png');
  // The browser logs the refused request itself; anything else is the page's.
  const late = pageErrors.filter((e) => !/Failed to load resource/.test(e));
  check(late.length === 0, 'no script errors after the refused request', late);

  step('scale a set up');
  await page.click('#clear');
  await page.click('#reset-sets');
  await page.selectOption('#colour-set', other);
  const oi = sets.indexOf(other);
  await page.fill(`#sets fieldset.set:nth-child(${oi + 1}) input.factor`, '3');
  check(await page.isChecked(`#sets fieldset.set:nth-child(${oi + 1}) input[value="scale"]`), 'typing a factor chooses "scale"');
  const desc3 = await page.textContent('#edited-desc');
  check(desc3.includes(other + ' ×3'), 'the right-hand side names the scaling', desc3);
  await runPrompt(page, PROMPT);
  check(/done/.test(await page.textContent('#run-status')), 'both answers finish with a set scaled');
  const scaledP = await actives(page, 'plain');
  const scaledE = await actives(page, 'edited');
  check(scaledE.length > 0 && JSON.stringify(scaledE) !== JSON.stringify(scaledP), `scaling ${other} by 3 changes its figures in the edited answer`, {plain: scaledP.slice(0, 4), edited: scaledE.slice(0, 4)});

  step('stop a long answer');
  // No set changed, so both sides write the same answer; greedy decoding of
  // the synthetic model never picks the end token, so it is long.
  await page.click('#reset-sets');
  await page.fill('#max-tokens', '1500');
  await page.fill('#temperature', '0');
  // A slower line still, so the answers are arriving when Stop is clicked.
  await throttle(16 * 1024);
  await page.fill('#prompt', 'Tell a long story. 讲一个很长的故事。');
  await page.press('#prompt', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#side-plain .turn:last-child .tok').length >= 3);
  check(await page.isEnabled('#stop'), 'the long answer is still being written when Stop is clicked');
  // A click without Playwright's wait for a stable layout, which the
  // growing answers may hold up until they are done.
  await page.$eval('#stop', (b) => b.click());
  await page.waitForFunction(() => !document.querySelector('#send').disabled);
  const stoppedStatus = await page.$$eval('.turn:last-child .turn-status', (els) => els.map((e) => e.textContent));
  check(stoppedStatus.length === 2 && stoppedStatus.every((e) => /stopped by you$/.test(e)), 'Stop ends both answers', stoppedStatus);
  const stoppedErrs = await page.$$eval('.turn:last-child .error', (els) => els.map((e) => e.textContent));
  check(stoppedErrs.length === 0, 'a stopped answer is not shown as an error', stoppedErrs);
  check(await page.textContent('#run-status') === 'Stopped.', 'the status line says Stopped.');
  const stoppedAt = await page.$$eval('#side-plain .turn:last-child .tok', (els) => els.length);
  check(stoppedAt < 1500, 'the stopped answer is shorter than its limit', stoppedAt);
  check(await page.inputValue('#prompt') === '', 'a stopped message is not put back in the box');
  await throttle(LINE);
  await page.fill('#max-tokens', maxTokens);
  await page.fill('#temperature', '0.7');

  step('dark colour scheme and a narrow window');
  await page.emulateMedia({colorScheme: 'dark'});
  await page.locator('#side-edited .turn:first-child .tok').nth(3).click();
  await page.mouse.move(0, 0);
  await shot(page, '07-dark.png');
  await page.emulateMedia({colorScheme: 'light'});
  await page.setViewportSize({width: 420, height: 900});
  await shot(page, '08-narrow.png');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, 'nothing sticks out sideways in a 420 px window', overflow);

  if (urlNoSets) await withoutSets(context, urlNoSets);
} catch (err) {
  if (!(err instanceof Fatal)) throw err;
  console.log('stopped: a step the others depend on failed');
} finally {
  await browser.close();
}
if (failures) {
  console.log(`${failures} check(s) failed after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(1);
}
console.log(`all checks passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
