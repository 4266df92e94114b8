// The try-it page: submits photos to the REST API, follows the job's event
// stream and plays the MP4. Every call sends the API key as a Bearer header,
// so the event stream is read with fetch() (EventSource cannot send headers)
// and the video is fetched as a blob and played from an object URL.

const KEY_STORAGE = 'i2v.apiKey';
const ENDED = new Set(['succeeded', 'failed', 'canceled']);
const RECONNECT_MS = 1000;
/** Stream attempts in a row that bring no news, after which the page stops trying. */
const MAX_FRUITLESS_ATTEMPTS = 5;
/** A caption given without a duration lasts the whole clip (the longest the API takes). */
const MAX_DURATION_S = 60;

const $ = (id) => document.getElementById(id);

/** A failed API call: the problem's title and detail (RFC 9457). */
class ApiProblem extends Error {
  constructor(title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.title = title;
    this.detail = detail;
  }
}

function apiKey() {
  return $('api-key').value.trim();
}

async function problemOf(response) {
  const text = await response.text();
  try {
    const problem = JSON.parse(text);
    if (typeof problem.title === 'string') return new ApiProblem(problem.title, problem.detail ?? '');
  } catch {
    // not problem+json
  }
  return new ApiProblem(`HTTP ${response.status}`, text.slice(0, 200));
}

async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${apiKey()}` } });
  if (!response.ok) throw await problemOf(response);
  return response;
}

function showProblem(error) {
  const box = $('problem');
  box.textContent = error instanceof ApiProblem ? error.message : `Something went wrong: ${error.message}`;
  box.hidden = false;
}

function clearProblem() {
  $('problem').hidden = true;
  $('problem').textContent = '';
}

// ---- the current job -------------------------------------------------------

let following = null; // AbortController of the stream being read
let videoUrl = null;

function describe(job) {
  if (job.status === 'queued') return job.queue_position ? `queued — ${job.queue_position} ahead` : 'queued';
  if (job.status === 'running') return `${job.stage} — ${job.progress}%`;
  if (job.status === 'failed' && job.error) return `failed — ${job.error.code}: ${job.error.message}`;
  if (job.status === 'succeeded' && job.result?.cached) return 'succeeded — copied from an earlier identical job (nothing rendered)';
  return job.status;
}

function showJob(job) {
  $('job-panel').hidden = false;
  $('job-id').textContent = job.id;
  $('stage').textContent = describe(job);
  $('stage').dataset.status = job.status;
  $('progress').value = job.progress;
}

function resetPlayer() {
  const player = $('player');
  player.pause();
  player.removeAttribute('src');
  player.load();
  player.hidden = true;
  $('download').hidden = true;
  if (videoUrl) URL.revokeObjectURL(videoUrl);
  videoUrl = null;
}

async function playVideo(job) {
  let blob;
  try {
    blob = await (await api(`/v1/jobs/${job.id}/video`)).blob();
  } catch (error) {
    if (error instanceof ApiProblem) throw error;
    // e.g. STORAGE=s3: the route redirects to the bucket, which this page may not fetch
    throw new Error(`the video could not be loaded here (${error.message}); download it with the API or the CLI`);
  }
  if ($('job-id').textContent !== job.id) return; // another job was opened meanwhile
  resetPlayer();
  videoUrl = URL.createObjectURL(blob);
  const player = $('player');
  player.src = videoUrl;
  player.hidden = false;
  const link = $('download');
  link.href = videoUrl;
  link.download = `${job.id}.mp4`;
  link.hidden = false;
  await player.play().catch(() => undefined); // autoplay may be refused; the controls still work
}

/** Splits a text/event-stream into events; returns the unfinished tail. */
function parseEvents(buffer, onEvent) {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const tail = blocks.pop();
  for (const block of blocks) {
    let type = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue; // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) onEvent(type, data.join('\n'));
  }
  return tail;
}

/** Reads the job's event stream until the job ends; reopens it if it drops early. */
async function follow(jobId) {
  following?.abort();
  const controller = new AbortController();
  following = controller;
  let job = null;
  const onEvent = (type, data) => {
    if (type !== 'job') return;
    job = JSON.parse(data);
    showJob(job);
  };
  let fruitless = 0;
  while (!controller.signal.aborted) {
    const before = job;
    try {
      const response = await api(`/v1/jobs/${jobId}/events`, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseEvents(buffer + value, onEvent);
        if (job && ENDED.has(job.status)) break;
      }
      reader.cancel().catch(() => undefined);
      if (!job || !ENDED.has(job.status)) {
        job = await (await api(`/v1/jobs/${jobId}`)).json();
        showJob(job);
      }
    } catch (error) {
      if (controller.signal.aborted) return null;
      if (error instanceof ApiProblem) throw error;
    }
    if (job && ENDED.has(job.status)) return job;
    fruitless = job === before ? fruitless + 1 : 0;
    if (fruitless >= MAX_FRUITLESS_ATTEMPTS) throw new Error('the connection to the API keeps dropping; reload the page to try again');
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
  return null;
}

async function open(jobId) {
  clearProblem();
  resetPlayer();
  try {
    const job = await (await api(`/v1/jobs/${jobId}`)).json();
    showJob(job);
    const ended = ENDED.has(job.status) ? job : await follow(jobId);
    if (!ended) return;
    await listJobs();
    if (ended.status === 'succeeded') await playVideo(ended);
  } catch (error) {
    showProblem(error);
  }
}

// ---- submitting --------------------------------------------------------------

function jobForm() {
  const form = new FormData();
  for (const file of $('images').files) form.append('images', file, file.name);
  const music = $('audio').files[0];
  if (music) form.append('audio', music, music.name);
  const logo = $('logo').files[0];
  if (logo) form.append('logo', logo, logo.name);
  form.append('preset', $('preset').value);
  const prompt = $('prompt').value.trim();
  if (prompt) form.append('prompt', prompt);
  const options = { motion: $('motion').value, aspect_ratio: $('aspect').value, resolution: $('resolution').value };
  // a platform preset sets the aspect ratio (and refuses one it does not take)
  const platform = $('platform').value;
  if (platform) {
    options.platform = platform;
    delete options.aspect_ratio;
  }
  const duration = $('duration').valueAsNumber;
  if (Number.isFinite(duration)) options.duration_s = duration;
  const caption = $('caption').value.trim();
  if (caption) options.text = [{ text: caption, start_s: 0, end_s: options.duration_s ?? MAX_DURATION_S }];
  if ($('no-cache').checked) options.cache = false;
  if (logo) options.logo = { corner: $('logo-corner').value };
  const badge = $('badge').value.trim();
  if (badge) options.badge = { text: badge };
  form.append('options', JSON.stringify(options));
  return form;
}

async function submit(event) {
  event.preventDefault();
  clearProblem();
  localStorage.setItem(KEY_STORAGE, apiKey());
  const button = $('submit');
  button.disabled = true;
  try {
    const job = await (await api('/v1/jobs', { method: 'POST', body: jobForm() })).json();
    showJob(job);
    void listJobs();
    void open(job.id);
  } catch (error) {
    showProblem(error);
  } finally {
    button.disabled = false;
  }
}

// ---- recent jobs -------------------------------------------------------------

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

async function listJobs() {
  if (!apiKey()) return;
  try {
    const { data } = await (await api('/v1/jobs?limit=10')).json();
    const rows = data.map((job) => {
      const row = document.createElement('tr');
      const link = document.createElement('button');
      link.type = 'button';
      link.className = 'link';
      link.textContent = job.id;
      link.addEventListener('click', () => void open(job.id));
      const first = document.createElement('td');
      first.append(link);
      row.append(first, cell(job.status), cell(`${job.stage} ${job.progress}%`), cell(new Date(job.created_at).toLocaleString()));
      row.dataset.status = job.status;
      return row;
    });
    $('jobs').replaceChildren(...rows);
    $('no-jobs').hidden = rows.length > 0;
  } catch (error) {
    showProblem(error);
  }
}

$('api-key').value = localStorage.getItem(KEY_STORAGE) ?? '';
$('job-form').addEventListener('submit', (event) => void submit(event));
$('refresh').addEventListener('click', () => {
  localStorage.setItem(KEY_STORAGE, apiKey());
  void listJobs();
});
void listJobs();
