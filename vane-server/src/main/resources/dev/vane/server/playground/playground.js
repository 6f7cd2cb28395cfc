// Vane playground: two panes answer the same conversation, unsteered and steered, streamed at once from this
// server's OpenAI-compatible chat endpoint, with Vane's extensions (steering, prefill, judge).
//
// Security rules this file keeps:
// - model output, imported files and server messages reach the page only as text (textContent, text nodes,
//   title attributes), never as markup: nothing in this file hands a string to the HTML parser;
// - the API key lives in one variable of this closure: sent only as an Authorization header to this origin,
//   never written to storage, a URL or the page;
// - every request goes to this server (relative URLs); the page's Content-Security-Policy forbids anything else.
(() => {
  'use strict';

  /** Format of exported conversations. */
  const FORMAT = 'vane.playground/1';
  /** Alternatives shown per token on hover. */
  const TOP_LOGPROBS = 3;
  const PANES = ['unsteered', 'steered'];
  const $ = (id) => document.getElementById(id);

  const state = {
    key: null,        // the API key: this page's memory only
    info: null,       // GET /v1/vane/info
    vectors: [],      // GET /v1/vane/vectors: data
    presets: [],      // GET /v1/vane/vectors: presets
    turns: [],        // [{user, prefill, settings, steering, answers: {unsteered, steered}}]
    running: null,    // AbortController of the turn being streamed
  };
  /** Per vector name: its slider and its exact number box. */
  const controls = new Map();

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // ---- talking to the server ----

  function headers(json) {
    const h = {};
    if (json) h['Content-Type'] = 'application/json';
    if (state.key !== null) h.Authorization = 'Bearer ' + state.key;
    return h;
  }

  /** The error a failed response carries (OpenAI's {"error": {"message"}}), or its status line. */
  async function failure(response) {
    let message = response.status + ' ' + response.statusText;
    try {
      const body = await response.json();
      if (body && body.error && typeof body.error.message === 'string') message = body.error.message;
    } catch (_) {
      // Not JSON: the status line says enough.
    }
    return new ApiError(response.status, message);
  }

  async function getJson(path) {
    const response = await fetch(path, {headers: headers(false), cache: 'no-store'});
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  /** Calls onChunk with each JSON event of a server-sent-event stream until [DONE]. */
  async function readEvents(response, onChunk) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const data = line.slice(6);
          if (data === '[DONE]') return;
          onChunk(JSON.parse(data));
        }
      }
    }
  }

  // ---- messages to the person ----

  function showError(message) {
    const box = $('error');
    box.textContent = message;
    box.hidden = false;
  }

  function clearError() {
    const box = $('error');
    box.textContent = '';
    box.hidden = true;
  }

  function setStatus(text) {
    $('status').textContent = text;
  }

  function keyRefused(error) {
    state.key = null;
    showError('The server refused this API key (' + error.status + '): ' + error.message
        + ' Enter the key the server was started with (--api-key or --api-key-env).');
    askForKey();
  }

  // ---- start ----

  async function start() {
    wire();
    try {
      state.info = await getJson('/v1/vane/info');
    } catch (e) {
      showError('Cannot reach the Vane server: ' + e.message);
      return;
    }
    $('model').textContent = state.info.model;
    $('max-tokens').max = String(state.info.max_tokens_limit);
    if (state.info.api_key_required && state.key === null) {
      askForKey();
      return;
    }
    await loadVectors();
  }

  function askForKey() {
    $('playground').hidden = true;
    $('key-form').hidden = false;
    $('key').focus();
  }

  async function useKey(event) {
    event.preventDefault();
    const input = $('key');
    state.key = input.value.trim();
    input.value = '';        // the key is kept in memory, not left in the form
    if (state.key === '') {
      state.key = null;
      showError('Enter the API key.');
      return;
    }
    await loadVectors();
  }

  async function loadVectors() {
    let catalog;
    try {
      catalog = await getJson('/v1/vane/vectors');
    } catch (e) {
      if (e.status === 401) keyRefused(e);
      else showError('Cannot load the steering vectors: ' + e.message);
      return;
    }
    clearError();
    $('key-form').hidden = true;
    buildVectors(catalog);
    $('playground').hidden = false;
    setStatus(state.key !== null ? 'API key accepted' : '');
    document.documentElement.dataset.ready = 'true';
    $('prompt').focus();
  }

  // ---- steering controls ----

  function buildVectors(catalog) {
    state.vectors = catalog.data;
    state.presets = catalog.presets;
    const box = $('vectors');
    box.replaceChildren();
    controls.clear();
    for (const v of state.vectors) {
      const item = element('div', 'vector');
      item.append(element('div', 'name', v.name));
      const measured = v.recommended_scale_measured ? 'measured' : "the builder's guess";
      item.append(element('div', 'meta', v.method + ' \u00b7 recommended ' + v.recommended_scale + ' (' + measured + ')'));
      item.title = v.sign;
      const range = document.createElement('input');
      range.type = 'range';
      range.min = String(v.scale_range.min);
      range.max = String(v.scale_range.max);
      range.step = String(v.scale_range.step);
      range.dataset.vector = v.name;
      range.setAttribute('aria-label', 'scale of ' + v.name);
      const number = document.createElement('input');
      number.type = 'number';
      number.step = 'any';
      number.dataset.vector = v.name;
      number.setAttribute('aria-label', 'exact scale of ' + v.name);
      range.addEventListener('input', () => {
        number.value = range.value;
        steeringChanged();
      });
      number.addEventListener('input', () => {
        if (number.value !== '' && Number.isFinite(Number(number.value))) range.value = number.value;
        steeringChanged();
      });
      const row = element('div', 'controls');
      row.append(range, number);
      item.append(row);
      box.append(item);
      controls.set(v.name, {range, number});
      setScale(v.name, v.default_scale === null ? 0 : v.default_scale);
    }
    $('no-vectors').hidden = state.vectors.length > 0;
    const select = $('preset');
    select.replaceChildren(option('', 'Custom'));
    for (const p of state.presets) select.append(option(p.id, p.label));
    select.value = state.presets.some((p) => p.id === 'server-default') ? 'server-default' : 'none';
    updateSummary();
  }

  function setScale(name, scale) {
    const c = controls.get(name);
    c.number.value = String(scale);
    c.range.value = String(scale);
  }

  function applyPreset() {
    const preset = state.presets.find((p) => p.id === $('preset').value);
    if (!preset) return;
    for (const name of controls.keys()) setScale(name, name in preset.scales ? preset.scales[name] : 0);
    updateSummary();
  }

  function steeringChanged() {
    $('preset').value = '';
    updateSummary();
  }

  /** The steered pane's steering: every vector whose scale is not 0. */
  function currentSteering() {
    const out = [];
    for (const [name, c] of controls) {
      const scale = Number(c.number.value);
      if (!Number.isFinite(scale)) throw new Error('the scale of ' + name + ' is not a number');
      if (scale !== 0) out.push({vector: name, scale});
    }
    return out;
  }

  function describeSteering(steering) {
    if (steering.length === 0) return 'no steering';
    return steering.map((s) => s.vector + ' \u00d7' + s.scale).join(', ');
  }

  function updateSummary() {
    let text;
    try {
      text = describeSteering(currentSteering());
    } catch (e) {
      text = e.message;
    }
    $('steering-summary').textContent = '(' + text + ')';
  }

  // ---- settings ----

  function numberField(id, name, integer) {
    const raw = $(id).value.trim();
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new Error(name + ' must be ' + (integer ? 'a whole number' : 'a number') + ', got "' + raw + '"');
    }
    return value;
  }

  /** The sampling settings of the next turn; an empty seed draws one, shared by both panes. */
  function readSettings() {
    const seedText = $('seed').value.trim();
    return {
      system: $('system').value,
      temperature: numberField('temperature', 'temperature', false),
      top_p: numberField('top-p', 'top-p', false),
      top_k: numberField('top-k', 'top-k', true),
      max_tokens: numberField('max-tokens', 'max tokens', true),
      seed: seedText === '' ? Math.floor(Math.random() * 2147483647) : numberField('seed', 'seed', true),
    };
  }

  function writeSettings(s) {
    if (!s || typeof s !== 'object') return;
    const fields = {temperature: 'temperature', top_p: 'top-p', top_k: 'top-k', max_tokens: 'max-tokens', seed: 'seed'};
    for (const [key, id] of Object.entries(fields)) if (typeof s[key] === 'number') $(id).value = String(s[key]);
    if (typeof s.system === 'string') $('system').value = s.system;
  }

  // ---- a turn ----

  function messagesFor(pane, turn) {
    const messages = [];
    if (turn.settings.system.trim() !== '') messages.push({role: 'system', content: turn.settings.system});
    for (const t of state.turns) {
      messages.push({role: 'user', content: t.user});
      if (t === turn) break;
      messages.push({role: 'assistant', content: t.answers[pane] ? t.answers[pane].content : ''});
    }
    return messages;
  }

  function requestBody(pane, turn) {
    const s = turn.settings;
    const body = {
      model: state.info.model,
      messages: messagesFor(pane, turn),
      stream: true,
      stream_options: {include_usage: true},
      logprobs: true,
      top_logprobs: TOP_LOGPROBS,
      judge: true,
      max_tokens: s.max_tokens,
      temperature: s.temperature,
      top_p: s.top_p,
      top_k: s.top_k,
      seed: s.seed,
      // The panes show exactly the sliders' steering: the server's default applies only through them.
      steering: pane === 'steered' ? turn.steering : [],
      steering_default: false,
    };
    if (turn.prefill !== '') body.prefill = turn.prefill;
    return body;
  }

  async function send(event) {
    event.preventDefault();
    if (state.running) return;
    const text = $('prompt').value;
    if (text.trim() === '') {
      $('prompt').focus();
      return;
    }
    let turn;
    try {
      turn = {user: text, prefill: $('prefill').value, settings: readSettings(), steering: currentSteering(), answers: {}};
    } catch (e) {
      showError(e.message);
      return;
    }
    clearError();
    state.turns.push(turn);
    $('prompt').value = '';
    const controller = new AbortController();
    state.running = controller;
    setRunning(true);
    try {
      await Promise.all(PANES.map((pane) => answer(pane, turn, renderTurn(pane, turn), controller.signal)));
    } finally {
      state.running = null;
      setRunning(false);
    }
  }

  /** Streams one pane's answer into its view and records it in the turn. */
  async function answer(pane, turn, view, signal) {
    const result = {content: turn.prefill, tokens: [], judge: null, completion_tokens: 0, tokens_per_second: null,
      finish_reason: null, error: null};
    turn.answers[pane] = result;
    const sent = performance.now();
    let last = null;
    try {
      const response = await fetch('/v1/chat/completions', {method: 'POST', headers: headers(true),
        body: JSON.stringify(requestBody(pane, turn)), signal, cache: 'no-store'});
      if (!response.ok) throw await failure(response);
      await readEvents(response, (chunk) => {
        if (chunk.error) throw new ApiError(500, chunk.error.message);
        if (chunk.usage) result.completion_tokens = chunk.usage.completion_tokens;
        for (const choice of chunk.choices || []) {
          const text = choice.delta && typeof choice.delta.content === 'string' ? choice.delta.content : '';
          const lp = choice.logprobs && Array.isArray(choice.logprobs.content) ? choice.logprobs.content[0] : null;
          if (text !== '' || lp) {
            last = performance.now();
            const token = {text, token: lp ? lp.token : null, logprob: lp ? lp.logprob : null,
              top: lp ? lp.top_logprobs.map((t) => [t.token, t.logprob]) : []};
            result.tokens.push(token);
            result.content += text;
            appendToken(view.text, token);
          }
          if (choice.finish_reason) result.finish_reason = choice.finish_reason;
          if (choice.judge) result.judge = choice.judge;
        }
      });
      // Speed as the person waited for it: tokens over the time from sending to the last token (the prompt's
      // prefill and any queueing included). Timing between chunks would be the browser's, not the server's:
      // two streams read at once arrive in bursts.
      if (last !== null && last > sent) result.tokens_per_second = result.completion_tokens / ((last - sent) / 1000);
      view.turn.dataset.state = 'done';
    } catch (e) {
      result.error = e.name === 'AbortError' ? 'stopped' : e.message;
      view.turn.dataset.state = 'failed';
      if (e.status === 401) keyRefused(e);
    }
    renderReadout(view.readout, result, pane === 'steered' ? turn.steering : null);
  }

  function setRunning(running) {
    $('send').disabled = running;
    $('stop').disabled = !running;
    setStatus(running ? 'generating\u2026' : '');
  }

  // ---- rendering: text only ----

  /** An element with a class and, optionally, text (never markup). */
  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function option(value, label) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = label;
    return o;
  }

  function message(role, label) {
    const m = element('div', 'message ' + role);
    m.append(element('span', 'role', label));
    const text = element('p', 'text');
    m.append(text);
    return {box: m, text};
  }

  /** A turn's user message and an empty answer in one pane; returns where the answer and its readout go. */
  function renderTurn(pane, turn) {
    const box = element('div', 'turn');
    box.dataset.state = 'streaming';
    const user = message('user', 'You');
    user.text.textContent = turn.user;
    const reply = message('assistant', pane === 'steered' ? 'Steered model' : 'Unsteered model');
    if (turn.prefill !== '') {
      const forced = element('span', 'prefill', turn.prefill);
      forced.title = 'prefilled: forced into the answer, not generated';
      reply.text.append(forced);
    }
    const readout = element('div', 'readout');
    reply.box.append(readout);
    box.append(user.box, reply.box);
    const turns = $('pane-' + pane).querySelector('.turns');
    turns.append(box);
    turns.parentElement.scrollTop = turns.parentElement.scrollHeight;
    return {turn: box, text: reply.text, readout};
  }

  /** Heat class of a log-probability: h0 likely ... h5 unlikely. */
  function heat(logprob) {
    if (typeof logprob !== 'number') return 'h0';
    if (logprob > -0.1) return 'h0';
    if (logprob > -0.5) return 'h1';
    if (logprob > -1) return 'h2';
    if (logprob > -2) return 'h3';
    if (logprob > -4) return 'h4';
    return 'h5';
  }

  function appendToken(container, token) {
    if (token.text === '') return;
    const span = element('span', 'tok ' + heat(token.logprob), token.text);
    if (typeof token.logprob === 'number') {
      const alternatives = token.top.map(([t, lp]) => JSON.stringify(t) + ' ' + lp.toFixed(2)).join(', ');
      span.title = JSON.stringify(token.token) + ': log p ' + token.logprob.toFixed(3) + ' (p '
          + Math.exp(token.logprob).toFixed(3) + ')' + (alternatives ? '\nmost likely: ' + alternatives : '');
    }
    container.append(span);
    const pane = container.closest('.pane');
    if (pane) pane.scrollTop = pane.scrollHeight;
  }

  function renderReadout(readout, result, steering) {
    readout.replaceChildren();
    const j = result.judge;
    if (j && typeof j.verdict === 'string') {
      const verdict = element('span', 'verdict ' + j.verdict, j.verdict);
      const why = ['mean log-prob ' + fixed(j.mean_logprob) + ' (degenerate below ' + fixed(j.degenerate_below) + ')',
        'repetition ' + fixed(j.repetition)];
      if (j.degenerate) why.push('degenerate: ' + j.degenerate);
      if (j.detail) why.push('refusal judge: ' + j.detail);
      verdict.title = why.join('\n');
      readout.append(verdict);
    } else if (j && j.error) {
      readout.append(element('span', 'failed', 'no verdict: ' + j.error));
    }
    readout.append(element('span', 'tokens', result.completion_tokens + ' tokens'));
    if (result.tokens_per_second !== null) readout.append(element('span', 'speed', result.tokens_per_second.toFixed(1) + ' tok/s'));
    if (result.finish_reason === 'length') readout.append(element('span', 'finish', 'cut at max tokens'));
    if (steering) readout.append(element('span', 'steering', describeSteering(steering)));
    if (result.error) readout.append(element('span', 'failed', 'error: ' + result.error));
  }

  function fixed(x) {
    return typeof x === 'number' ? x.toFixed(2) : '?';
  }

  function clearPanes() {
    for (const pane of PANES) $('pane-' + pane).querySelector('.turns').replaceChildren();
  }

  function newConversation() {
    if (state.running) state.running.abort();
    state.turns = [];
    clearPanes();
    clearError();
  }

  // ---- export and import ----

  function exportConversation() {
    let settings;
    let steering;
    try {
      settings = readSettings();
      steering = currentSteering();
    } catch (e) {
      showError(e.message);
      return;
    }
    const doc = {
      format: FORMAT,
      exported: new Date().toISOString(),
      model: state.info.model,
      settings,
      steering,
      vectors: state.vectors.map((v) => ({name: v.name, method: v.method, recommended_scale: v.recommended_scale})),
      turns: state.turns,
    };
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], {type: 'application/json'}));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'vane-playground-' + doc.exported.replace(/[:.]/g, '-') + '.json';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function text(value, where) {
    if (typeof value !== 'string') throw new Error(where + ' must be text');
    return value;
  }

  /** A turn read from an imported file, checked field by field: imported files are as untrusted as answers. */
  function importedTurn(t, i) {
    if (!t || typeof t !== 'object') throw new Error('turns[' + i + '] must be an object');
    const answers = {};
    for (const pane of PANES) {
      const a = t.answers && t.answers[pane];
      if (!a || typeof a !== 'object') throw new Error('turns[' + i + '].answers.' + pane + ' is missing');
      answers[pane] = {
        content: text(a.content, 'turns[' + i + '].answers.' + pane + '.content'),
        tokens: Array.isArray(a.tokens) ? a.tokens.filter((k) => k && typeof k.text === 'string').map((k) => ({
          text: k.text, token: typeof k.token === 'string' ? k.token : null,
          logprob: typeof k.logprob === 'number' ? k.logprob : null,
          top: Array.isArray(k.top) ? k.top.filter((p) => Array.isArray(p) && typeof p[1] === 'number') : [],
        })) : [],
        judge: a.judge && typeof a.judge === 'object' ? a.judge : null,
        completion_tokens: typeof a.completion_tokens === 'number' ? a.completion_tokens : 0,
        tokens_per_second: typeof a.tokens_per_second === 'number' ? a.tokens_per_second : null,
        finish_reason: typeof a.finish_reason === 'string' ? a.finish_reason : null,
        error: typeof a.error === 'string' ? a.error : null,
      };
    }
    const steering = Array.isArray(t.steering)
      ? t.steering.filter((s) => s && typeof s.vector === 'string' && typeof s.scale === 'number') : [];
    const s = t.settings && typeof t.settings === 'object' ? t.settings : {};
    const settings = {system: typeof s.system === 'string' ? s.system : ''};
    for (const key of ['temperature', 'top_p', 'top_k', 'max_tokens', 'seed']) {
      if (typeof s[key] === 'number') settings[key] = s[key];
    }
    return {user: text(t.user, 'turns[' + i + '].user'), prefill: typeof t.prefill === 'string' ? t.prefill : '',
      settings, steering, answers};
  }

  async function importConversation() {
    const input = $('import');
    const file = input.files[0];
    input.value = '';
    if (!file) return;
    if (state.running) state.running.abort();
    let doc;
    let turns;
    try {
      doc = JSON.parse(await file.text());
      if (!doc || doc.format !== FORMAT) throw new Error('not a Vane playground conversation (format ' + FORMAT + ')');
      if (!Array.isArray(doc.turns)) throw new Error('"turns" must be a list');
      turns = doc.turns.map(importedTurn);
    } catch (e) {
      showError('Cannot import ' + file.name + ': ' + e.message);
      return;
    }
    clearError();
    writeSettings(doc.settings);
    const unknown = [];
    if (Array.isArray(doc.steering)) {
      for (const name of controls.keys()) setScale(name, 0);
      for (const s of doc.steering) {
        if (!s || typeof s.vector !== 'string' || typeof s.scale !== 'number') continue;
        if (controls.has(s.vector)) setScale(s.vector, s.scale);
        else unknown.push(s.vector);
      }
      $('preset').value = '';
      updateSummary();
    }
    state.turns = turns;
    clearPanes();
    for (const turn of turns) {
      for (const pane of PANES) {
        const view = renderTurn(pane, turn);
        const a = turn.answers[pane];
        const generated = a.tokens.map((k) => k.text).join('');
        // Tokens carry the tint; when they do not add up to the answer (edited file), the answer is shown plain.
        if (a.tokens.length > 0 && turn.prefill + generated === a.content) {
          for (const token of a.tokens) appendToken(view.text, token);
        } else {
          view.text.append(document.createTextNode(a.content.startsWith(turn.prefill) ? a.content.slice(turn.prefill.length) : a.content));
        }
        view.turn.dataset.state = a.error ? 'failed' : 'done';
        renderReadout(view.readout, a, pane === 'steered' ? turn.steering : null);
      }
    }
    const notes = [];
    if (typeof doc.model === 'string' && doc.model !== state.info.model) notes.push('made with model ' + doc.model);
    if (unknown.length > 0) notes.push('vectors this server does not offer: ' + unknown.join(', '));
    setStatus('imported ' + turns.length + ' turns' + (notes.length ? ' (' + notes.join('; ') + ')' : ''));
  }

  // ---- wiring ----

  function wire() {
    $('key-form').addEventListener('submit', (e) => useKey(e).catch(unexpected));
    $('prompt-form').addEventListener('submit', (e) => send(e).catch(unexpected));
    $('prompt').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        $('prompt-form').requestSubmit();
      }
    });
    $('stop').addEventListener('click', () => state.running && state.running.abort());
    $('preset').addEventListener('change', applyPreset);
    $('new').addEventListener('click', newConversation);
    $('export').addEventListener('click', exportConversation);
    $('import').addEventListener('change', () => importConversation().catch(unexpected));
  }

  /** A failure no handler expected: shown, so that the page never just stops. */
  function unexpected(e) {
    showError('Something went wrong in the page: ' + (e && e.message ? e.message : String(e)));
  }

  start().catch(unexpected);
})();
