// The live value-neuron view. It reads the server's value sets, sends each
// message twice at once (plain, and with the chosen sets switched off or
// scaled; same seed and temperature), streams both answers side by side and
// colours every token by the chosen set's share of active neurons.
//
// Every URL is relative, so the page works wherever the handler is mounted.
'use strict';

(function () {
  const SIDES = ['plain', 'edited'];
  const SIDE_LABEL = {plain: 'answer as it is', edited: 'answer with your changes'};
  // A sequential light-to-dark ramp (orange-red); index 0 is "no activity".
  const RAMP = [[255, 247, 236], [253, 212, 158], [252, 141, 89], [215, 48, 31], [127, 0, 0]];

  const state = {
    model: '',
    layers: 0,
    sets: [], // from GET v1/valueexp/sets
    choice: new Map(), // set name -> {mode: 'none'|'off'|'scale', factor: string}
    history: {plain: [], edited: []}, // chat messages of each side
    turns: {plain: [], edited: []}, // rendered turns: {el, tokensEl, tokens: [...]}
    abort: null,
    selected: null, // {turn, index}: the token whose chart is shown
    scale: null, // {name, min, max}: the colouring set and its figures shown
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c !== null && c !== undefined) e.append(c);
    }
    return e;
  }

  function svg(tag, attrs, ...children) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    for (const c of children) e.append(c);
    return e;
  }

  function pct(x) {
    if (typeof x !== 'number' || !isFinite(x)) return '–';
    return (100 * x).toFixed(x === 1 || x === 0 ? 0 : 1) + '%';
  }

  function num(x) {
    if (typeof x !== 'number' || !isFinite(x)) return '–';
    const a = Math.abs(x);
    if (a !== 0 && (a < 1e-3 || a >= 1e4)) return x.toExponential(2);
    return x.toFixed(4);
  }

  // ---- errors -----------------------------------------------------------

  function showBanner(msg) {
    const b = $('banner');
    b.textContent = msg;
    b.hidden = !msg;
  }

  // sentence ends a server's message with a full stop, so that advice can
  // follow it.
  function sentence(msg) {
    return /[.!?。！？]$/.test(msg) ? msg : msg + '.';
  }

  // explain turns a failed request into a sentence for the reader.
  function explain(err) {
    if (err && err.status) {
      let m = err.status >= 500 && err.status !== 503
        ? `The server failed (${err.status}): ${sentence(err.message)}`
        : `The server refused the request (${err.status}): ${sentence(err.message)}`;
      if (err.status === 401) m += ' Enter the server\'s API key under Settings.';
      if (err.status === 429 || err.status === 503) m += ' The server is busy; try again in a moment.';
      return m;
    }
    if (err instanceof TypeError) return 'Could not reach the server (' + err.message + '). Is `valueexp serve` still running?';
    return (err && err.message) || String(err);
  }

  async function httpError(res) {
    let msg = `${res.status} ${res.statusText}`.trim();
    try {
      const text = await res.text();
      try {
        const j = JSON.parse(text);
        if (j && j.error) {
          msg = j.error.message || msg;
          if (j.error.param) msg += ` (field ${j.error.param})`;
        }
      } catch (_) {
        if (text.trim()) msg = text.trim().slice(0, 300);
      }
    } catch (_) { /* the body could not be read: keep the status */ }
    const e = new Error(msg);
    e.status = res.status;
    return e;
  }

  function headers() {
    const h = {'Content-Type': 'application/json'};
    const key = $('api-key').value.trim();
    if (key) h.Authorization = 'Bearer ' + key;
    return h;
  }

  // ---- value sets -------------------------------------------------------

  async function loadSets() {
    let res;
    try {
      res = await fetch('v1/valueexp/sets', {headers: headers()});
    } catch (err) {
      $('model-info').textContent = 'Not connected.';
      $('sets').replaceChildren(el('p', {class: 'hint', text: 'The value sets could not be loaded (see the message above).'}));
      showBanner(explain(err));
      return;
    }
    if (!res.ok) {
      const err = await httpError(res);
      if (err.status === 401) $('settings').open = true;
      $('model-info').textContent = 'Not connected.';
      $('sets').replaceChildren(el('p', {class: 'hint', text: 'The value sets could not be loaded (see the message above).'}));
      showBanner('Could not read the value sets: ' + explain(err));
      return;
    }
    let data;
    try {
      data = await res.json();
    } catch (err) {
      showBanner('The server\'s list of value sets is not valid JSON: ' + err.message);
      return;
    }
    showBanner('');
    state.model = data.model || '';
    state.layers = data.layers || 0;
    state.sets = Array.isArray(data.sets) ? data.sets : [];
    const info = [];
    if (state.model) info.push('Model: ' + state.model);
    if (state.layers) info.push(state.layers + ' layers');
    info.push(state.sets.length ? state.sets.length + ' value sets' : 'no value sets');
    $('model-info').textContent = info.join(' · ');
    renderSets();
  }

  function setLabel(s) {
    const parts = [s.value || s.name];
    if (s.english && s.english !== s.value) parts.push(s.english);
    if (s.lang) parts.push(s.lang);
    return parts.join(' · ');
  }

  function renderSets() {
    const box = $('sets');
    box.textContent = '';
    const sel = $('colour-set');
    const prev = sel.value;
    sel.textContent = '';
    if (!state.sets.length) {
      box.append(el('p', {class: 'hint', text: 'The server has no neuron file (start it with --neurons FILE): you can still chat, but there is nothing to switch off or colour by.'}));
      sel.append(el('option', {value: '', text: '(no value sets)'}));
      sel.disabled = true;
      // Without sets there is nothing to colour by, switch or chart.
      $('reset-sets').hidden = true;
      $('colour-panel').hidden = true;
      $('detail').hidden = true;
      updateEditedDesc();
      return;
    }
    sel.disabled = false;
    $('reset-sets').hidden = false;
    $('colour-panel').hidden = false;
    $('detail').hidden = false;
    state.sets.forEach((s, i) => {
      if (!state.choice.has(s.name)) state.choice.set(s.name, {mode: 'none', factor: '2'});
      const c = state.choice.get(s.name);
      const group = 'set-' + i;
      const radio = (value, text) => {
        const input = el('input', {type: 'radio', name: group, value, checked: c.mode === value});
        input.addEventListener('change', () => {
          c.mode = value;
          updateEditedDesc();
        });
        return el('label', {class: 'opt'}, input, ' ' + text);
      };
      const factor = el('input', {type: 'number', class: 'factor', step: '0.1', value: c.factor,
        'aria-label': 'Scale factor for ' + s.name});
      factor.addEventListener('input', () => {
        c.factor = factor.value;
        c.mode = 'scale';
        box.querySelector(`input[name="${group}"][value="scale"]`).checked = true;
        updateEditedDesc();
      });
      const layers = Array.isArray(s.layers) ? s.layers : [];
      const where = layers.length ? (layers.length <= 8 ? 'layers ' + layers.join(', ') : `${layers.length} layers`) : '';
      const valueSpan = el('span', {class: 'value', lang: s.lang || null, text: s.value || s.name});
      const fs = el('fieldset', {class: 'set', 'data-name': s.name},
        el('legend', {}, valueSpan,
          s.english && s.english !== s.value ? el('span', {class: 'en', text: s.english}) : null,
          s.lang ? el('span', {class: 'lang', text: s.lang}) : null),
        el('div', {class: 'set-meta', text: [s.neurons ? s.neurons + ' neurons' : '', where].filter(Boolean).join(' in ')}),
        el('div', {class: 'opts'}, radio('none', 'as is'), radio('off', 'off'),
          el('span', {class: 'scale'}, radio('scale', 'scale ×'), factor)));
      box.append(fs);
      sel.append(el('option', {value: s.name, lang: s.lang || null, text: setLabel(s)}));
    });
    if (prev && state.sets.some((s) => s.name === prev)) sel.value = prev;
    updateEditedDesc();
  }

  // intervention collects the chosen edits; it throws on a bad factor so the
  // reader hears about it before anything is sent.
  function intervention() {
    const deactivate = [];
    const scale = {};
    for (const s of state.sets) {
      const c = state.choice.get(s.name);
      if (!c || c.mode === 'none') continue;
      if (c.mode === 'off') deactivate.push(s.name);
      if (c.mode === 'scale') {
        const f = Number(c.factor);
        if (c.factor === '' || !isFinite(f)) throw new Error(`The scale factor of ${s.name} is not a number.`);
        scale[s.name] = f;
      }
    }
    return {deactivate, scale};
  }

  function updateEditedDesc() {
    const d = $('edited-desc');
    const parts = [];
    for (const s of state.sets) {
      const c = state.choice.get(s.name);
      if (!c || c.mode === 'none') continue;
      parts.push(c.mode === 'off' ? `${s.name} off` : `${s.name} ×${c.factor}`);
    }
    if (!state.sets.length) d.textContent = 'The server has no value sets, so this side answers like the other.';
    else d.textContent = parts.length ? 'Changed: ' + parts.join(', ') + '.' : 'No set changed yet: both answers should be the same.';
  }

  // ---- streaming ----------------------------------------------------------

  // streamChat posts one streaming chat request and calls onChunk with every
  // parsed server-sent event until [DONE].
  async function streamChat(body, signal, onChunk) {
    const res = await fetch('v1/chat/completions', {method: 'POST', headers: headers(), body: JSON.stringify(body), signal});
    if (!res.ok) throw await httpError(res);
    if (!res.body) throw new Error('The browser cannot read a streamed response.');
    const reader = res.body.getReader();
    const dec = new TextDecoder('utf-8');
    let buf = '';
    let data = [];
    let done = false;
    const dispatch = () => {
      if (!data.length) return;
      const payload = data.join('\n');
      data = [];
      if (payload.trim() === '[DONE]') {
        done = true;
        return;
      }
      let chunk;
      try {
        chunk = JSON.parse(payload);
      } catch (err) {
        throw new Error('The server sent a chunk that is not JSON: ' + payload.slice(0, 200));
      }
      if (chunk && chunk.error) {
        const e = new Error(chunk.error.message || 'error in the stream');
        if (chunk.error.param) e.message += ` (field ${chunk.error.param})`;
        throw e;
      }
      onChunk(chunk);
    };
    for (;;) {
      const {value, done: eof} = await reader.read();
      buf += eof ? dec.decode() : dec.decode(value, {stream: true});
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line === '') dispatch();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        // Comments (":") and other SSE fields carry nothing for us.
      }
      if (eof) break;
    }
    if (buf.startsWith('data:')) data.push(buf.slice(5).replace(/^ /, ''));
    dispatch();
    if (!done) throw new Error('The answer stream ended early (no [DONE]).');
  }

  function newTurn(side, prompt) {
    const tokensEl = el('div', {class: 'tokens', role: 'group', 'aria-label': 'Tokens of the ' + SIDE_LABEL[side]});
    const textEl = el('div', {class: 'answer-text'});
    const statusEl = el('div', {class: 'turn-status'});
    const turnEl = el('article', {class: 'turn'},
      el('div', {class: 'msg user'}, el('span', {class: 'who', text: 'You'}), el('div', {class: 'user-text', text: prompt})),
      el('div', {class: 'msg assistant', 'aria-busy': 'true'}, el('span', {class: 'who', text: 'Model'}), textEl, statusEl, tokensEl));
    document.querySelector(`#side-${side} .turns`).append(turnEl);
    // sum and count: the colouring set's figures over the turn's tokens.
    const turn = {side, el: turnEl, textEl, statusEl, tokensEl, text: '', tokens: [], sum: 0, count: 0,
      finish: '', error: '', started: performance.now()};
    state.turns[side].push(turn);
    return turn;
  }

  // tokenLabel makes a token's text visible in a chip: line breaks, tabs,
  // other control characters (as their Unicode pictures) and a token that is
  // only spaces.
  function tokenLabel(text) {
    if (text === '') return '·';
    let s = text.replace(/\n/g, '↵').replace(/\t/g, '⇥')
      .replace(/[\u0000-\u001f]/g, (c) => String.fromCharCode(0x2400 + c.charCodeAt(0))).replace(/\u007f/g, '␡')
      .replace(/[\u0080-\u009f]/g, (c) => '‹' + c.charCodeAt(0).toString(16) + '›');
    if (/^ +$/.test(s)) s = s.replace(/ /g, '␣');
    return s;
  }

  function addToken(turn, entry) {
    const index = turn.tokens.length;
    turn.tokens.push(entry);
    const text = typeof entry.text === 'string' ? entry.text : '';
    const t = el('span', {class: 'tok' + (text === '' ? ' empty' : ''), tabindex: '0', role: 'button',
      'data-index': index, 'aria-describedby': 'tooltip', text: tokenLabel(text)});
    t.addEventListener('mouseenter', () => showTip(t, turn, index));
    t.addEventListener('mouseleave', hideTip);
    t.addEventListener('focus', () => showTip(t, turn, index));
    t.addEventListener('blur', hideTip);
    t.addEventListener('click', () => select(turn, index));
    t.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        select(turn, index);
      } else if (ev.key === 'Escape') {
        hideTip();
      }
    });
    turn.tokensEl.append(t);
  }

  function onChunk(turn, chunk) {
    const ch = chunk && Array.isArray(chunk.choices) ? chunk.choices[0] : null;
    if (!ch) return;
    const delta = ch.delta || {};
    if (typeof delta.content === 'string' && delta.content) {
      turn.text += delta.content;
      turn.textEl.append(delta.content);
    }
    const tokens = ch.valueexp && Array.isArray(ch.valueexp.tokens) ? ch.valueexp.tokens : [];
    const from = turn.tokens.length;
    for (const entry of tokens) addToken(turn, entry);
    if (tokens.length) colourNew(turn, from);
    if (ch.finish_reason) turn.finish = ch.finish_reason;
    updateTurnStatus(turn, true);
  }

  function updateTurnStatus(turn, running) {
    const secs = (performance.now() - turn.started) / 1000;
    const parts = [];
    if (turn.tokens.length) {
      parts.push(`${turn.tokens.length} tokens`);
      if (secs > 0.05) parts.push(`${(turn.tokens.length / secs).toFixed(1)} tokens/s`);
    }
    const name = $('colour-set').value;
    if (name && turn.count) parts.push(`${name}: ${pct(turn.sum / turn.count)} active on average`);
    if (!running && turn.finish) parts.push(turn.finish === 'length' ? 'stopped at the token limit' : 'finished (' + turn.finish + ')');
    if (running) parts.push('writing…');
    if (turn.stopped) parts.push('stopped by you');
    turn.statusEl.textContent = parts.join(' · ');
    if (turn.error) turn.statusEl.append(el('div', {class: 'error', role: 'alert', text: turn.error}));
  }

  async function send(ev) {
    if (ev) ev.preventDefault();
    if (state.abort) return;
    const prompt = $('prompt').value.trim();
    if (!prompt) {
      $('run-status').textContent = 'Type a message first.';
      $('prompt').focus();
      return;
    }
    let edit;
    try {
      edit = intervention();
    } catch (err) {
      $('run-status').textContent = err.message;
      return;
    }
    const maxTokens = parseInt($('max-tokens').value, 10);
    const temperature = Number($('temperature').value);
    const seed = parseInt($('seed').value, 10);
    const bad = [];
    if (!(maxTokens >= 1)) bad.push('longest answer');
    if (!(temperature >= 0)) bad.push('temperature');
    if (!(seed >= 0)) bad.push('seed');
    if (bad.length) {
      $('settings').open = true;
      $('run-status').textContent = 'Check the settings: ' + bad.join(', ') + '.';
      return;
    }
    const monitor = state.sets.map((s) => s.name);
    const system = $('system').value.trim();
    const base = {stream: true, max_tokens: maxTokens, temperature, seed};
    if (state.model) base.model = state.model;

    state.abort = new AbortController();
    $('send').disabled = true;
    $('stop').disabled = false;
    $('run-status').textContent = 'Both answers are being written…';
    $('prompt').value = '';

    const runs = SIDES.map((side) => {
      state.history[side].push({role: 'user', content: prompt});
      const messages = (system ? [{role: 'system', content: system}] : []).concat(state.history[side]);
      const ext = {};
      if (monitor.length) {
        ext.monitor = monitor;
        ext.monitor_layers = true;
      }
      if (side === 'edited') {
        if (edit.deactivate.length) ext.deactivate = edit.deactivate;
        if (Object.keys(edit.scale).length) ext.scale = edit.scale;
      }
      const body = Object.assign({}, base, {messages});
      if (Object.keys(ext).length) body.valueexp = ext;
      const turn = newTurn(side, prompt);
      const history = state.history[side];
      return streamChat(body, state.abort.signal, (c) => onChunk(turn, c)).then(
        () => {
          history.push({role: 'assistant', content: turn.text});
        },
        (err) => {
          const aborted = err && err.name === 'AbortError';
          if (aborted) turn.stopped = true;
          else turn.error = explain(err);
          if (aborted && turn.text) {
            history.push({role: 'assistant', content: turn.text});
          } else {
            // The failed exchange is not part of this side's conversation.
            history.pop();
          }
          throw err;
        }).finally(() => {
        turn.el.querySelector('.assistant').removeAttribute('aria-busy');
        updateTurnStatus(turn, false);
      });
    });
    const results = await Promise.allSettled(runs);
    state.abort = null;
    $('send').disabled = false;
    $('stop').disabled = true;
    const stopped = results.some((r) => r.status === 'rejected' && r.reason && r.reason.name === 'AbortError');
    const failed = results.filter((r) => r.status === 'rejected' && !(r.reason && r.reason.name === 'AbortError')).length;
    // Nothing came of the message: give it back for another try.
    if (failed === 2 && !$('prompt').value) $('prompt').value = prompt;
    if (failed) $('run-status').textContent = failed === 2 ? 'Both answers failed; see below.' : 'One answer failed; see below.';
    else $('run-status').textContent = stopped ? 'Stopped.' : 'Both answers are done.';
    recolour();
  }

  // ---- colours, hover, chart ----------------------------------------------

  function figure(entry, name) {
    const f = entry && entry.sets ? entry.sets[name] : null;
    return f && typeof f.active === 'number' ? f : null;
  }

  function rampColour(v) {
    const x = Math.min(1, Math.max(0, v)) * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(x));
    const t = x - i;
    const c = RAMP[i].map((a, k) => Math.round(a + (RAMP[i + 1][k] - a) * t));
    return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  }

  // paint colours one token chip by its figure on the scale lo..hi.
  function paint(span, entry, name, lo, hi) {
    const f = name ? figure(entry, name) : null;
    if (!f) {
      span.style.backgroundColor = '';
      span.style.color = '';
      span.classList.add('nofig');
      span.dataset.active = '';
      return;
    }
    const v = (f.active - lo) / (hi - lo);
    span.classList.remove('nofig');
    span.style.backgroundColor = rampColour(v);
    span.style.color = v > 0.6 ? '#fff' : '#1d1d1d';
    span.dataset.active = String(f.active);
  }

  // ends returns the figures at the light and dark ends of the colour scale:
  // 0 and 1, or the smallest and largest shown when stretched.
  function ends() {
    const sc = state.scale;
    if (!$('stretch').checked || !(sc.min <= sc.max)) return [0, 1];
    return [sc.min, sc.max > sc.min ? sc.max : sc.min + 1e-9];
  }

  // recolour paints every token of both sides on one scale, so equal colours
  // mean equal activity left and right.
  function recolour() {
    const name = $('colour-set').value;
    const sc = {name, min: Infinity, max: -Infinity};
    for (const side of SIDES) {
      for (const turn of state.turns[side]) {
        turn.sum = 0;
        turn.count = 0;
        for (const e of turn.tokens) {
          const f = name ? figure(e, name) : null;
          if (f) {
            sc.min = Math.min(sc.min, f.active);
            sc.max = Math.max(sc.max, f.active);
            turn.sum += f.active;
            turn.count++;
          }
        }
      }
    }
    state.scale = sc;
    const [lo, hi] = ends();
    $('legend-lo').textContent = pct(lo);
    $('legend-hi').textContent = pct(hi);
    for (const side of SIDES) {
      for (const turn of state.turns[side]) {
        const spans = turn.tokensEl.children;
        turn.tokens.forEach((e, i) => paint(spans[i], e, name, lo, hi));
        updateTurnStatus(turn, state.abort !== null && !turn.finish && !turn.error);
      }
    }
    if (state.selected) drawChart();
  }

  // colourNew paints the tokens a turn got from index from on, and repaints
  // everything only when they widen a stretched scale, so a long answer
  // costs linear, not quadratic, work.
  function colourNew(turn, from) {
    const name = $('colour-set').value;
    const sc = state.scale;
    if (!sc || sc.name !== name) {
      recolour();
      return;
    }
    let widened = false;
    for (let i = from; i < turn.tokens.length; i++) {
      const f = name ? figure(turn.tokens[i], name) : null;
      if (!f) continue;
      turn.sum += f.active;
      turn.count++;
      if (f.active < sc.min) {
        sc.min = f.active;
        widened = true;
      }
      if (f.active > sc.max) {
        sc.max = f.active;
        widened = true;
      }
    }
    if (widened && $('stretch').checked) {
      recolour();
      return;
    }
    const [lo, hi] = ends();
    const spans = turn.tokensEl.children;
    for (let i = from; i < turn.tokens.length; i++) paint(spans[i], turn.tokens[i], name, lo, hi);
  }

  function showTip(anchor, turn, index) {
    const entry = turn.tokens[index];
    const tip = $('tooltip');
    tip.textContent = '';
    const chosen = $('colour-set').value;
    tip.append(el('div', {class: 'tip-head'},
      el('span', {class: 'tip-tok', text: tokenLabel(entry.text || '')}),
      ` token ${index + 1} of the ${SIDE_LABEL[turn.side]}` + (typeof entry.id === 'number' ? ` · id ${entry.id}` : '')));
    if (!entry.text) tip.append(el('div', {class: 'tip-note', text: 'No text of its own: a byte of a character that a later token completes.'}));
    const names = entry.sets ? Object.keys(entry.sets) : [];
    if (!names.length) {
      tip.append(el('div', {text: 'No figures for this token.'}));
    } else {
      const order = state.sets.map((s) => s.name).filter((n) => names.includes(n));
      for (const n of names) if (!order.includes(n)) order.push(n);
      const tbody = el('tbody');
      for (const n of order) {
        const f = entry.sets[n];
        tbody.append(el('tr', {class: n === chosen ? 'chosen' : null},
          el('th', {scope: 'row', text: n}), el('td', {text: pct(f.active)}), el('td', {text: num(f.mean)})));
      }
      tip.append(el('table', {},
        el('thead', {}, el('tr', {}, el('th', {text: 'set'}), el('th', {text: 'active'}), el('th', {text: 'mean'}))),
        tbody));
    }
    tip.hidden = false;
    const r = anchor.getBoundingClientRect();
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    let left = r.left + window.scrollX;
    left = Math.max(window.scrollX + 4, Math.min(left, window.scrollX + document.documentElement.clientWidth - w - 4));
    let top = r.bottom + window.scrollY + 6;
    if (r.bottom + h + 10 > window.innerHeight && r.top - h - 6 > 0) top = r.top + window.scrollY - h - 6;
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  }

  function hideTip() {
    $('tooltip').hidden = true;
  }

  function select(turn, index) {
    const prev = document.querySelector('.tok.selected');
    if (prev) prev.classList.remove('selected');
    const span = turn.tokensEl.children[index];
    if (span) span.classList.add('selected');
    state.selected = {turn, index};
    drawChart();
    // Below long answers the chart may be out of sight; bring it in without
    // moving the focus.
    const r = $('detail').getBoundingClientRect();
    if (r.top > window.innerHeight || r.bottom < 0) $('detail').scrollIntoView({block: 'nearest'});
  }

  function setInfo(name) {
    return state.sets.find((s) => s.name === name) || null;
  }

  // drawChart draws the chosen set's share of active neurons in each of its
  // layers for the selected token, beside the token at the same position of
  // the other answer when there is one.
  function drawChart() {
    const box = $('chart');
    box.textContent = '';
    const sel = state.selected;
    if (!sel) return;
    const name = $('colour-set').value;
    const entry = sel.turn.tokens[sel.index];
    const other = otherEntry(sel);
    const f = name ? figure(entry, name) : null;
    $('detail-hint').textContent = `Token “${tokenLabel(entry.text || '')}”, number ${sel.index + 1} of the ${SIDE_LABEL[sel.turn.side]}.`;
    if (!f) {
      box.append(el('p', {class: 'hint', text: name ? `No figures of ${name} for this token.` : 'Choose a set to colour by.'}));
      return;
    }
    box.append(el('p', {class: 'chart-head', text: `${name}: ${pct(f.active)} of its neurons active, mean activation ${num(f.mean)}.`}));
    if (!Array.isArray(f.layers) || !f.layers.length) {
      box.append(el('p', {class: 'hint', text: 'The server sent no per-layer figures for this token.'}));
      return;
    }
    const series = [{label: SIDE_LABEL[sel.turn.side], cls: 'bar-a', layers: f.layers}];
    const of = other ? figure(other.entry, name) : null;
    if (of && Array.isArray(of.layers)) {
      series.push({label: `${SIDE_LABEL[other.side]}, same position (“${tokenLabel(other.entry.text || '')}”)`, cls: 'bar-b', layers: of.layers});
    }
    const layerIds = f.layers.map((l) => l.layer);
    const n = layerIds.length;
    const W = 640;
    const H = 200;
    const padL = 40;
    const padR = 8;
    const padT = 10;
    const padB = 34;
    const plotW = W - padL - padR;
    const plotH = H - padT - padB;
    // Bars stay slim when a set has few layers.
    const slot = Math.min(plotW / n, 72);
    const x0 = padL + (plotW - slot * n) / 2;
    const barW = Math.max(1, (slot * 0.8) / series.length);
    const y = (v) => padT + plotH * (1 - Math.min(1, Math.max(0, v)));
    const summary = f.layers.map((l) => `layer ${l.layer} ${pct(l.active)}`).join(', ');
    const chart = svg('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
      'aria-label': `${name}, share of neurons active per layer for this token: ${summary}`});
    for (const t of [0, 0.5, 1]) {
      chart.append(svg('line', {x1: padL, x2: W - padR, y1: y(t), y2: y(t), class: 'grid'}));
      const lab = svg('text', {x: padL - 6, y: y(t) + 4, class: 'axis', 'text-anchor': 'end'});
      lab.textContent = Math.round(100 * t) + '%';
      chart.append(lab);
    }
    const every = Math.max(1, Math.ceil(n / 24));
    layerIds.forEach((layer, i) => {
      series.forEach((s, k) => {
        const l = s.layers.find((x) => x.layer === layer);
        if (!l) return;
        const x = x0 + i * slot + slot * 0.1 + k * barW;
        const rect = svg('rect', {x: x.toFixed(2), y: y(l.active).toFixed(2), width: barW.toFixed(2),
          height: Math.max(0, y(0) - y(l.active)).toFixed(2), class: s.cls, 'data-layer': layer});
        const title = svg('title');
        title.textContent = `${s.label}: layer ${layer}, ${pct(l.active)} active, mean ${num(l.mean)}`;
        rect.append(title);
        chart.append(rect);
      });
      if (i % every === 0) {
        const lab = svg('text', {x: (x0 + i * slot + slot / 2).toFixed(2), y: H - padB + 14, class: 'axis', 'text-anchor': 'middle'});
        lab.textContent = String(layer);
        chart.append(lab);
      }
    });
    const xl = svg('text', {x: padL + plotW / 2, y: H - 4, class: 'axis', 'text-anchor': 'middle'});
    xl.textContent = 'layer';
    chart.append(xl);
    box.append(chart);
    const legend = el('div', {class: 'chart-legend'});
    for (const s of series) legend.append(el('span', {class: 'key'}, el('span', {class: 'swatch ' + s.cls}), ' ' + s.label));
    box.append(legend);
  }

  function otherEntry(sel) {
    const otherSide = sel.turn.side === 'plain' ? 'edited' : 'plain';
    const ti = state.turns[sel.turn.side].indexOf(sel.turn);
    const ot = state.turns[otherSide][ti];
    if (!ot || !ot.tokens[sel.index]) return null;
    return {side: otherSide, entry: ot.tokens[sel.index]};
  }

  // ---- wiring -------------------------------------------------------------

  function clearConversation() {
    if (state.abort) state.abort.abort();
    for (const side of SIDES) {
      state.history[side] = [];
      state.turns[side] = [];
      document.querySelector(`#side-${side} .turns`).textContent = '';
    }
    state.selected = null;
    state.scale = null;
    $('chart').textContent = '';
    $('detail-hint').textContent = 'Click a token (or focus it and press Enter) to see the chosen set\'s activity in each layer.';
    $('run-status').textContent = '';
  }

  function init() {
    $('prompt-form').addEventListener('submit', send);
    $('prompt').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) send(ev);
    });
    $('stop').addEventListener('click', () => {
      if (state.abort) state.abort.abort();
    });
    $('clear').addEventListener('click', clearConversation);
    $('colour-set').addEventListener('change', recolour);
    $('stretch').addEventListener('change', recolour);
    $('reset-sets').addEventListener('click', () => {
      for (const c of state.choice.values()) c.mode = 'none';
      renderSets();
    });
    $('api-key').addEventListener('change', loadSets);
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') hideTip();
    });
    loadSets();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
