// The playground page: one clip in, the model's answer streamed from /v1/chat/completions, and the panels of
// /v1/audio/diagnostics drawn on canvas. Plain browser JavaScript, nothing fetched from outside this server.
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  clip: null,          // {name, bytes: Uint8Array, format}
  clips: [],           // clips tried in this page: {name, embedding: Float32Array}
  busy: false,
  recorder: null,
};

// ---------- errors: always the API's message, in the page ----------

function showError(message) {
  const e = $('error');
  e.textContent = message;
  e.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

/** The message of an API error body: OpenAI style {error: {message}} or the stages' {message}. */
async function apiError(response, what) {
  let text = '';
  try {
    text = await response.text();
    const j = JSON.parse(text);
    if (j && j.error && j.error.message) return j.error.message;
    if (j && j.message) return j.message;
  } catch (ignored) {
    // not JSON: fall through to the raw text
  }
  return `${what} failed with HTTP ${response.status}${text ? ': ' + text.slice(0, 300) : ''}`;
}

window.addEventListener('error', (e) => showError('page error: ' + e.message));
window.addEventListener('unhandledrejection', (e) => showError('page error: ' + (e.reason && e.reason.message || e.reason)));

// ---------- input: file, recording, playback ----------

/** The format field of the chat API from the file's first bytes, else its extension; null when neither says. */
function sniffFormat(bytes, name) {
  const s = String.fromCharCode(...bytes.slice(0, 4));
  if (s === 'RIFF') return 'wav';
  if (s === 'fLaC') return 'flac';
  if (s.startsWith('ID3') || (bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0)) return 'mp3';
  const ext = (name.split('.').pop() || '').toLowerCase();
  return ['wav', 'flac', 'mp3'].includes(ext) ? ext : null;
}

async function setClip(name, blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const format = sniffFormat(bytes, name);
  state.clip = {name, bytes, format: format || 'wav'}; // unknown: sent as WAV, the server says what it found
  const player = $('player');
  if (player.dataset.url) URL.revokeObjectURL(player.dataset.url);
  player.dataset.url = URL.createObjectURL(blob);
  player.src = player.dataset.url;
  $('clip-info').textContent = `${name}: ${(bytes.length / 1024).toFixed(1)} KiB, `
    + (format ? format.toUpperCase() : 'not recognised here as WAV, FLAC or MP3 (the server will check)');
}

$('file').addEventListener('change', async () => {
  const f = $('file').files[0];
  if (f) await setClip(f.name, f);
});

/** 16-bit PCM WAV of mono samples. */
function wavBytes(samples, rate) {
  const buf = new ArrayBuffer(44 + samples.length * 2);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); v.setUint32(4, 36 + samples.length * 2, true); str(8, 'WAVE');
  str(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true);
  str(36, 'data'); v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i]));
    v.setInt16(44 + i * 2, x < 0 ? x * 0x8000 : x * 0x7fff, true);
  }
  return new Blob([buf], {type: 'audio/wav'});
}

$('record').addEventListener('click', async () => {
  clearError();
  if (state.recorder) {
    state.recorder.stop();
    return;
  }
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    showError('this browser cannot record here (MediaRecorder needs a secure context: https or localhost)');
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({audio: true});
  } catch (e) {
    showError('no microphone: ' + e.message);
    return;
  }
  const chunks = [];
  const rec = new MediaRecorder(stream);
  rec.ondataavailable = (e) => chunks.push(e.data);
  rec.onstop = async () => {
    stream.getTracks().forEach((t) => t.stop());
    state.recorder = null;
    $('record').textContent = 'Record';
    $('record').classList.remove('recording');
    $('record-state').textContent = '';
    try {
      // the recorder gives WebM/Ogg Opus; the server takes WAV, FLAC or MP3: decode here, send 16-bit WAV
      const ctx = new AudioContext();
      const audio = await ctx.decodeAudioData(await new Blob(chunks).arrayBuffer());
      const mono = new Float32Array(audio.length);
      for (let c = 0; c < audio.numberOfChannels; c++) {
        const ch = audio.getChannelData(c);
        for (let i = 0; i < mono.length; i++) mono[i] += ch[i] / audio.numberOfChannels;
      }
      await ctx.close();
      $('file').value = ''; // the clip is now the recording, not the chosen file
      await setClip(`recording-${new Date().toTimeString().slice(0, 8)}.wav`, wavBytes(mono, audio.sampleRate));
    } catch (e) {
      showError('cannot decode the recording: ' + e.message);
    }
  };
  rec.start();
  state.recorder = rec;
  $('record').textContent = 'Stop';
  $('record').classList.add('recording');
  $('record-state').textContent = 'recording…';
});

document.querySelectorAll('input[name=mode]').forEach((r) => r.addEventListener('change', () => {
  const raw = mode() === 'raw';
  $('raw-fields').hidden = !raw;
  $('chat-fields').hidden = raw;
}));

function mode() {
  return document.querySelector('input[name=mode]:checked').value;
}

function syncGreedy() {
  const g = $('greedy').checked;
  ['temperature', 'top-p', 'top-k'].forEach((id) => { $(id).disabled = g; });
}
$('greedy').addEventListener('change', syncGreedy);
syncGreedy();

async function loadEnvironments() {
  try {
    const r = await fetch('v1/audio/environments');
    if (!r.ok) {
      showError(await apiError(r, 'listing the environments'));
      return;
    }
    const j = await r.json();
    const sel = $('environment');
    for (const env of j.environments) {
      const o = document.createElement('option');
      o.value = env;
      o.textContent = env;
      sel.appendChild(o);
    }
    sel.dataset.loaded = 'true';
  } catch (e) {
    showError('cannot reach the server: ' + e.message);
  }
}

// ---------- asking ----------

function number(id) {
  const v = $(id).value.trim();
  return v === '' ? null : Number(v);
}

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function resetAnswer() {
  $('answer').textContent = '';
  $('answer').dataset.chunks = '0';
  $('answer').dataset.done = 'false';
  $('finish').textContent = '';
  $('usage').textContent = '';
  clearCanvas($('timings'));
}

$('ask').addEventListener('click', async () => {
  clearError();
  if (!state.clip) {
    showError('choose an audio file or record a clip first');
    return;
  }
  if (state.busy) return;
  state.busy = true;
  $('ask').disabled = true;
  resetAnswer();
  resetDiagnostics();
  try {
    // both at once: the answer streams while the diagnostics are computed
    await Promise.all([answer(), diagnostics()]);
  } finally {
    state.busy = false;
    $('ask').disabled = false;
  }
});

async function answer() {
  try {
    if (mode() === 'raw') await answerRaw();
    else await answerChat();
  } catch (e) {
    showError('cannot reach the server: ' + e.message);
  }
}

function generationQuery() {
  const q = new URLSearchParams();
  const env = $('environment').value;
  if (env) q.set('environment', env);
  q.set('max_new_tokens', String(number('max-tokens') ?? 64));
  if ($('greedy').checked) {
    q.set('greedy', 'true');
  } else {
    for (const [id, key] of [['temperature', 'temperature'], ['top-p', 'top_p'], ['top-k', 'top_k']]) {
      if (number(id) !== null) q.set(key, String(number(id)));
    }
  }
  if (number('seed') !== null) q.set('seed', String(number('seed')));
  return q;
}

async function answerRaw() {
  const q = generationQuery();
  q.set('raw_prompt', $('raw-prompt').value);
  const r = await fetch('v1/audio/describe?' + q, {
    method: 'POST', headers: {'content-type': 'application/octet-stream'}, body: state.clip.bytes,
  });
  if (!r.ok) {
    showError(await apiError(r, 'the answer'));
    return;
  }
  const j = await r.json();
  appendAnswer(j.text);
  finish(j.finish_reason, j.usage, j.timings);
}

async function answerChat() {
  const content = [{type: 'input_audio', input_audio: {data: base64(state.clip.bytes), format: state.clip.format}}];
  if ($('prompt').value.trim()) content.push({type: 'text', text: $('prompt').value});
  const messages = [];
  if ($('system').value.trim()) messages.push({role: 'system', content: $('system').value});
  messages.push({role: 'user', content});
  const body = {messages, stream: true, stream_options: {include_usage: true}, max_tokens: number('max-tokens') ?? 64};
  if ($('greedy').checked) {
    body.temperature = 0;
    body.repetition_penalty = 1.0; // greedy as the CLI means it: argmax, no penalty
  } else {
    if (number('temperature') !== null) body.temperature = number('temperature');
    if (number('top-p') !== null) body.top_p = number('top-p');
    if (number('top-k') !== null) body.top_k = number('top-k');
  }
  if (number('seed') !== null) body.seed = number('seed');
  if ($('environment').value) body.environment = $('environment').value;

  const r = await fetch('v1/chat/completions', {
    method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body),
  });
  if (!r.ok) {
    showError(await apiError(r, 'the answer'));
    return;
  }
  // server-sent events: "data: {chunk}\n\n" ... "data: [DONE]"
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let reason = null, usage = null, timings = null;
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') continue;
        const chunk = JSON.parse(data);
        if (chunk.error) {
          showError(chunk.error.message);
          continue;
        }
        if (chunk.usage) usage = chunk.usage;
        if (chunk.timings) timings = chunk.timings;
        const choice = chunk.choices && chunk.choices[0];
        if (!choice) continue;
        if (choice.delta && choice.delta.content) appendAnswer(choice.delta.content);
        if (choice.finish_reason) reason = choice.finish_reason;
      }
    }
  }
  finish(reason, usage, timings);
}

function appendAnswer(text) {
  const a = $('answer');
  a.textContent += text;
  a.dataset.chunks = String(Number(a.dataset.chunks) + 1);
}

function finish(reason, usage, timings) {
  $('finish').textContent = reason ? `finish reason: ${reason}` : '';
  $('usage').textContent = usage
    ? ` · tokens: ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion = ${usage.total_tokens}` : '';
  if (timings) drawTimings($('timings'), timings);
  $('answer').dataset.done = 'true';
}

// ---------- diagnostics ----------

function resetDiagnostics() {
  document.querySelectorAll('#results article:not(#answer-panel) canvas').forEach(clearCanvas);
  $('attention').replaceChildren();
  for (const id of ['mel-note', 'encoder-note', 'attention-note', 'hidden-note', 'embedding-note']) $(id).textContent = '';
  $('adapter-note').textContent = $('environment').value ? 'computing…' : 'Pick an environment to see its adapter.';
  $('diagnostics-timing').textContent = '';
  $('results').dataset.diagnostics = 'pending';
}

async function diagnostics() {
  const q = new URLSearchParams();
  if ($('environment').value) q.set('environment', $('environment').value);
  if (mode() === 'raw') {
    q.set('raw_prompt', $('raw-prompt').value);
  } else {
    if ($('prompt').value.trim()) q.set('prompt', $('prompt').value);
    if ($('system').value.trim()) q.set('system', $('system').value);
  }
  let r;
  try {
    r = await fetch('v1/audio/diagnostics?' + q, {
      method: 'POST', headers: {'content-type': 'application/octet-stream'}, body: state.clip.bytes,
    });
  } catch (e) {
    showError('cannot reach the server: ' + e.message);
    return;
  }
  if (!r.ok) {
    const message = await apiError(r, 'the diagnostics');
    if (!$('error').textContent.includes(message)) showError(($('error').hidden ? '' : $('error').textContent + '\n') + message);
    $('adapter-note').textContent = '';
    $('results').dataset.diagnostics = 'failed';
    return;
  }
  const d = await r.json();
  drawReport(d);
  $('results').dataset.diagnostics = 'done';
}

function drawReport(d) {
  drawMel($('mel'), d.mel);
  $('mel-note').textContent = `${d.windows} window(s), ${d.duration_seconds.toFixed(2)} s`;
  drawHeatMap($('encoder'), d.encoder.map, {transpose: true, flip: true});
  drawLines($('token-norms'), [{values: d.encoder.token_norms.values, color: '#2f6fde', label: 'token norm'}],
    {xLabel: `token (of ${d.tokens})`});
  $('encoder-note').textContent = `[${d.tokens}, ${d.d_model}] shown as ${d.encoder.map.cols} channels x ${d.encoder.map.rows} tokens`;

  if (d.adapter) {
    const a = d.adapter;
    drawLines($('gate'), [{values: a.gate.values, color: '#12b76a', label: 'gate' + (a.gate_width > 1 ? ' (mean over channels)' : '')}],
      {xLabel: `token (of ${a.gate.source_length})`, min: 0, max: 1});
    drawLines($('change'), [{values: a.relative_change.values, color: '#f79009', label: '|scale·gate·delta| / |x|'}],
      {xLabel: 'token', min: 0});
    $('adapter-note').textContent = `${a.environment}: gate mean ${a.gate_mean.toFixed(3)} (min ${a.gate_min.toFixed(3)}, `
      + `max ${a.gate_max.toFixed(3)}), |out − x| / |x| = ${a.relative_delta_norm.toFixed(4)}`;
    if (a.attention) drawAttention(a.attention);
    else $('attention-note').textContent = 'attention maps: ' + a.attention_skipped;
  } else {
    $('adapter-note').textContent = 'No adapter applied: pick an environment to see its gate and attention.';
  }

  if (d.hidden_states) {
    const h = d.hidden_states;
    drawLines($('hidden-norms'), [
      {values: h.audio_norms, color: '#7a5af8', label: `audio positions (${h.audio_length})`},
      {values: h.text_norms, color: '#ee46bc', label: `text positions (${h.positions - h.audio_length})`},
    ], {xLabel: 'hidden state (0 = embeddings, last = final norm)', points: true});
    drawHeatMap($('hidden-map'), h.map, {log: true, marks: [h.audio_start, h.audio_start + h.audio_length],
      markScale: h.map.cols / h.positions});
    $('hidden-note').textContent = `${h.layers} hidden states x ${h.positions} positions; audio at [${h.audio_start}, `
      + `${h.audio_start + h.audio_length}) between the dashed lines (log colour scale)`;
  } else {
    $('hidden-note').textContent = 'hidden states: ' + d.hidden_states_skipped;
  }

  const emb = Float32Array.from(d.embedding);
  drawBarsStrip($('embedding'), emb);
  const existing = state.clips.find((c) => c.name === state.clip.name && c.size === state.clip.bytes.length);
  if (existing) existing.embedding = emb;
  else state.clips.push({name: state.clip.name, size: state.clip.bytes.length, embedding: emb});
  drawSimilarity($('similarity'), state.clips);
  $('embedding-note').textContent = `${emb.length} values; ${state.clips.length} clip(s) compared`;
  const t = d.timings;
  $('diagnostics-timing').textContent = `diagnostics computed in ${t.total_ms.toFixed(0)} ms`
    + (t.attention_ms != null ? ` (attention ${t.attention_ms.toFixed(0)} ms)` : '')
    + (t.hidden_states_ms != null ? ` (hidden states ${t.hidden_states_ms.toFixed(0)} ms)` : '');
}

function drawAttention(att) {
  const box = $('attention');
  box.replaceChildren();
  const side = Math.max(64, Math.min(150, Math.floor(880 / Math.min(att.heads, 6)) - 12));
  att.maps.forEach((layer, l) => layer.forEach((map, h) => {
    const fig = document.createElement('figure');
    const c = document.createElement('canvas');
    c.width = side;
    c.height = side;
    c.className = 'attention-map';
    c.title = `layer ${l}, head ${h}: queries (rows) x keys (columns)`;
    fig.appendChild(c);
    const cap = document.createElement('figcaption');
    cap.textContent = `layer ${l} · head ${h}`;
    fig.appendChild(cap);
    box.appendChild(fig);
    drawHeatMap(c, map, {sqrt: true});
  }));
  $('attention-note').textContent = `${att.layers} layer(s) x ${att.heads} heads over ${att.tokens} tokens`
    + (att.maps[0][0].rows < att.tokens ? `, averaged to ${att.maps[0][0].rows} x ${att.maps[0][0].cols}` : '')
    + ' (square-root colour scale)';
}

// ---------- drawing ----------

function clearCanvas(c) {
  c.getContext('2d').clearRect(0, 0, c.width, c.height);
}

function decodeF32(b64) {
  const s = atob(b64);
  const view = new DataView(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) view.setUint8(i, s.charCodeAt(i));
  const out = new Float32Array(s.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

// viridis, 9 stops
const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129],
  [92, 200, 99], [170, 220, 50], [253, 231, 37]];

function colour(t) {
  const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/**
 * A heat map scaled to the canvas. transpose: source rows become x; flip: row 0 at the bottom; sqrt / log: colour
 * scale; marks: vertical dashed lines at source columns (times markScale).
 */
function drawHeatMap(canvas, map, opt = {}, dest = null) {
  const v = decodeF32(map.f32);
  const w = opt.transpose ? map.rows : map.cols, h = opt.transpose ? map.cols : map.rows;
  let lo = map.min, hi = map.max;
  const f = opt.sqrt ? (x) => Math.sqrt(Math.max(0, x)) : opt.log ? (x) => Math.log1p(Math.max(0, x)) : (x) => x;
  lo = f(lo);
  hi = f(hi);
  const span = hi > lo ? hi - lo : 1;
  const img = new ImageData(w, h);
  for (let r = 0; r < map.rows; r++) {
    for (let c = 0; c < map.cols; c++) {
      let x = opt.transpose ? r : c, y = opt.transpose ? c : r;
      if (opt.flip) y = h - 1 - y;
      const rgb = colour((f(v[r * map.cols + c]) - lo) / span);
      const o = (y * w + x) * 4;
      img.data[o] = rgb[0];
      img.data[o + 1] = rgb[1];
      img.data[o + 2] = rgb[2];
      img.data[o + 3] = 255;
    }
  }
  const off = document.createElement('canvas');
  off.width = w;
  off.height = h;
  off.getContext('2d').putImageData(img, 0, 0);
  const ctx = canvas.getContext('2d');
  const d = dest || {x: 0, y: 0, w: canvas.width, h: canvas.height};
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, d.x, d.y, d.w, d.h);
  if (opt.marks) {
    ctx.save();
    ctx.strokeStyle = '#fff';
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    for (const m of opt.marks) {
      const x = d.x + (m * (opt.markScale || 1)) / w * d.w;
      ctx.beginPath();
      ctx.moveTo(x, d.y);
      ctx.lineTo(x, d.y + d.h);
      ctx.stroke();
    }
    ctx.restore();
  }
}

/** Every window's mel map side by side, low frequencies at the bottom, the valid-frame boundary dashed. */
function drawMel(canvas, mel) {
  clearCanvas(canvas);
  const n = mel.windows.length, gap = 6;
  const w = (canvas.width - gap * (n - 1)) / n;
  const ctx = canvas.getContext('2d');
  mel.windows.forEach((win, i) => {
    const x = i * (w + gap);
    const frac = win.valid_frames / mel.frames_per_window;
    drawHeatMap(canvas, win.map, {flip: true}, {x, y: 0, w, h: canvas.height - 14});
    ctx.save();
    ctx.strokeStyle = '#fff';
    ctx.setLineDash([5, 3]);
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x + frac * w, 0);
    ctx.lineTo(x + frac * w, canvas.height - 14);
    ctx.stroke();
    ctx.restore();
    ctx.fillStyle = '#667085';
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText(`window ${i + 1}: ${win.valid_frames} of ${mel.frames_per_window} frames`, x + 2, canvas.height - 2);
  });
}

/** Line plot of one or more curves sharing the axes. */
function drawLines(canvas, curves, opt = {}) {
  clearCanvas(canvas);
  const ctx = canvas.getContext('2d');
  const L = 46, R = 10, T = 16, B = 22;
  const w = canvas.width - L - R, h = canvas.height - T - B;
  let lo = opt.min ?? Infinity, hi = opt.max ?? -Infinity;
  for (const c of curves) for (const v of c.values) {
    if (opt.min === undefined) lo = Math.min(lo, v);
    if (opt.max === undefined) hi = Math.max(hi, v);
  }
  if (!(hi > lo)) { hi = lo + 1; }
  ctx.strokeStyle = '#d9dee7';
  ctx.fillStyle = '#667085';
  ctx.font = '11px system-ui, sans-serif';
  ctx.strokeRect(L, T, w, h);
  ctx.fillText(fmt(hi), 2, T + 8);
  ctx.fillText(fmt(lo), 2, T + h);
  if (opt.xLabel) ctx.fillText(opt.xLabel, L, canvas.height - 6);
  let lx = L + w;
  curves.forEach((c) => {
    const n = c.values.length;
    ctx.strokeStyle = c.color;
    ctx.fillStyle = c.color;
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const x = L + (n === 1 ? w / 2 : (i / (n - 1)) * w), y = T + h - ((c.values[i] - lo) / (hi - lo)) * h;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.stroke();
    if (opt.points) {
      for (let i = 0; i < n; i++) {
        const x = L + (n === 1 ? w / 2 : (i / (n - 1)) * w), y = T + h - ((c.values[i] - lo) / (hi - lo)) * h;
        ctx.beginPath();
        ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    const tw = ctx.measureText(c.label).width;
    lx -= tw + 18;
    ctx.fillRect(lx, 5, 10, 3);
    ctx.fillStyle = '#1d2330';
    ctx.fillText(c.label, lx + 13, 11);
  });
}

function fmt(v) {
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1e4) ? v.toExponential(1) : v.toFixed(a < 1 ? 3 : a < 100 ? 2 : 0);
}

/** The embedding as one bar per channel around zero. */
function drawBarsStrip(canvas, v) {
  clearCanvas(canvas);
  const ctx = canvas.getContext('2d');
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  if (m === 0) m = 1;
  const mid = canvas.height / 2, bw = canvas.width / v.length;
  for (let i = 0; i < v.length; i++) {
    const hgt = (v[i] / m) * (mid - 4);
    ctx.fillStyle = v[i] >= 0 ? '#2f6fde' : '#f04438';
    ctx.fillRect(i * bw, hgt >= 0 ? mid - hgt : mid, Math.max(1, bw - (bw > 3 ? 1 : 0)), Math.abs(hgt));
  }
  ctx.fillStyle = '#d9dee7';
  ctx.fillRect(0, mid, canvas.width, 1);
}

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** The cosine similarity matrix of the clips tried in this page. */
function drawSimilarity(canvas, clips) {
  const n = clips.length;
  const label = 130, cell = Math.min(56, Math.floor((canvas.width - label) / Math.max(1, n)));
  canvas.height = label / 4 + n * cell + 20;
  clearCanvas(canvas);
  const ctx = canvas.getContext('2d');
  ctx.font = '11px system-ui, sans-serif';
  const top = label / 4;
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = '#1d2330';
    ctx.fillText(short(clips[i].name, 20), 2, top + i * cell + cell / 2 + 4);
    ctx.fillText(String(i + 1), label + i * cell + cell / 2 - 3, top - 4);
    for (let j = 0; j < n; j++) {
      const s = cosine(clips[i].embedding, clips[j].embedding);
      const rgb = colour((s + 1) / 2);
      ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
      ctx.fillRect(label + j * cell, top + i * cell, cell - 2, cell - 2);
      ctx.fillStyle = s > 0.2 ? '#1d2330' : '#fff';
      ctx.fillText(s.toFixed(2), label + j * cell + cell / 2 - 12, top + i * cell + cell / 2 + 4);
    }
  }
}

function short(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/** Horizontal bars: the stages of one answer. */
function drawTimings(canvas, t) {
  clearCanvas(canvas);
  const ctx = canvas.getContext('2d');
  const rows = [['decode', t.decode_ms], ['features', t.features_ms], ['encode', t.encode_ms], ['adapt', t.adapt_ms],
    ['project', t.project_ms], ['prefill (to first token)', t.prefill_ms], ['generate (all tokens)', t.generate_ms]]
    .filter((r) => r[1] != null);
  const max = Math.max(1e-9, ...rows.map((r) => r[1]));
  const L = 150, rh = 22, W = canvas.width - L - 80;
  ctx.font = '12px system-ui, sans-serif';
  rows.forEach(([name, ms], i) => {
    const y = 6 + i * rh;
    ctx.fillStyle = '#1d2330';
    ctx.fillText(name, 4, y + 13);
    ctx.fillStyle = '#2f6fde';
    ctx.fillRect(L, y + 2, Math.max(2, (ms / max) * W), rh - 7);
    ctx.fillStyle = '#667085';
    ctx.fillText(`${ms.toFixed(1)} ms`, L + Math.max(2, (ms / max) * W) + 6, y + 13);
  });
  if (t.decode_tokens_per_second != null) {
    ctx.fillStyle = '#1d2330';
    ctx.fillText(`decode speed: ${t.decode_tokens_per_second.toFixed(1)} tokens/s`, 4, 6 + rows.length * rh + 13);
  }
}

loadEnvironments();
