import { api } from './api-client.js';
import { $, el, when } from './dom.js';
import { state } from './state.js';

/**
 * The agent's past runs from the server (newest first there, oldest first here): the user's own message, the
 * reply, status, usage, cost and session. The run shown live below is left out until it is finished.
 */
export async function loadHistory() {
  const agentId = state.agent;
  const list = $('history');
  if (!agentId) {
    list.replaceChildren();
    return [];
  }
  try {
    const { runs } = await api('GET', `/api/v1/agents/${agentId}/runs?limit=50`);
    if (agentId !== state.agent) return [];
    const latest = runs.find((r) => r.result?.sessionId);
    if (latest && !state.sessions[agentId]) state.sessions[agentId] = latest.result.sessionId;
    $('session').textContent = state.sessions[agentId] || '—';
    list.replaceChildren();
    for (const r of runs.slice().reverse()) {
      if (r.request_id === state.requestId && state.live) continue;
      list.append(turn(r));
    }
    if (!runs.length) list.append(el('li', { class: 'muted' }, 'No messages yet.'));
    return runs;
  } catch (e) {
    list.replaceChildren(el('li', { class: 'muted' }, e.message));
    return [];
  }
}

/** One past run: the message, its status, usage, cost and session, and the reply. */
function turn(r) {
  const res = r.result;
  const usage = res?.usage ? `${res.usage.inputTokens} in / ${res.usage.outputTokens} out tokens` : 'no usage yet';
  const cost = res?.costUsd !== undefined ? `$${res.costUsd.toFixed(4)}` : 'no cost reported';
  const session = res?.sessionId || r.session_id;
  return el(
    'li',
    { class: 'turn', dataset: { requestId: r.request_id, status: r.status } },
    el('div', { class: 'user-msg' }, r.content ?? ''),
    el(
      'div',
      { class: 'run-meta muted' },
      el('span', { class: `badge ${r.status}`, dataset: { status: r.status } }, r.status),
      ` ${when(r.created_at)} · `,
      el('span', { class: 'usage' }, usage),
      ' · ',
      el('span', { class: 'cost' }, cost),
      session ? ' · session ' : '',
      session ? el('code', { class: 'session' }, session) : '',
    ),
    res?.output !== undefined ? el('pre', { class: 'ev output' }, JSON.stringify(res.output, null, 2)) : '',
    res
      ? el('div', { class: 'reply' }, res.text || (res.error ? `${res.error.code}: ${res.error.message}` : '(no text)'))
      : '',
  );
}
