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
  state.stream?.abort();
  state.live = false;
  await loadHistory();
  $('events').replaceChildren(el('div', { class: 'user-msg' }, content));
  newRun();
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
    });
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
