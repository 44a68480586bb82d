import { api } from './api-client.js';
import { $, el, showError } from './dom.js';
import { follow } from './event-stream.js';
import { newRun } from './event-view.js';
import { loadHistory } from './history.js';
import { state } from './state.js';

// Sending a message to the chosen agent (then following its run), and interrupting it.

export async function send(event) {
  event.preventDefault();
  const content = $('message').value;
  if (!state.agent || !content.trim()) return;
  state.sent += 1;
  state.stream?.abort();
  state.live = false;
  let attachments;
  try {
    attachments = await imageAttachments($('images').files);
  } catch (e) {
    showError(e.message);
    return;
  }
  $('events').replaceChildren(
    el(
      'div',
      { class: 'user-msg' },
      content,
      ...attachments.map((a) =>
        el('img', { class: 'thumb', alt: a.name, src: `data:${a.mime_type};base64,${a.data}` }),
      ),
    ),
  );
  newRun();
  // The message is on screen first; the history (and the session a continued message names) comes after.
  await loadHistory();
  try {
    const tools = $('allowed-tools')
      .value.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const session = $('continue').checked ? state.sessions[state.agent] : undefined;
    const { request_id, status } = await api('POST', `/api/v1/agents/${state.agent}/messages`, {
      content,
      ...(tools.length ? { allowed_tools: tools } : {}),
      ...(session ? { session_id: session } : {}),
      ...(attachments.length ? { attachments } : {}),
    });
    $('images').value = '';
    state.requestId = request_id;
    state.live = true;
    $('message').value = '';
    $('run-status').textContent = `${status === 'queued' ? 'queued' : 'running'} ${request_id}`;
    $('run-status').dataset.status = 'processing';
    $('interrupt').disabled = false;
    follow(state.agent, request_id);
  } catch (e) {
    showError(e.message);
  }
}

export async function interrupt() {
  try {
    await api('POST', `/api/v1/agents/${state.agent}/interrupt`);
  } catch (e) {
    showError(e.message);
  }
}

/** Picks up a run that is still going (after a reload): its events are replayed from the start and followed. */
export function resumeRun(run) {
  state.stream?.abort();
  state.requestId = run.request_id;
  state.live = true;
  $('events').replaceChildren(el('div', { class: 'user-msg' }, run.content ?? ''));
  newRun();
  $('run-status').textContent = `${run.status} ${run.request_id}`;
  $('run-status').dataset.status = 'processing';
  $('interrupt').disabled = false;
  follow(state.agent, run.request_id);
}

/** The chosen image files as inline attachments (base64; the server caps their total size). */
async function imageAttachments(files) {
  const out = [];
  for (const file of files ?? []) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    out.push({
      kind: 'image',
      mime_type: file.type || 'application/octet-stream',
      name: file.name,
      data: btoa(binary),
    });
  }
  return out;
}
