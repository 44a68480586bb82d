import { api } from './api-client.js';
import { $, el, showError, when } from './dom.js';
import { loadHistory } from './history.js';
import { resumeRun } from './messages.js';
import { setKeyState } from './key-state.js';
import { state } from './state.js';
import { openTerminal } from './terminal.js';

// The agents panel: the user's agents (create, choose, delete), the providers to create them with,
// and the remote agents enrolled through dial-home.

export async function loadAgents() {
  if (!state.key) return;
  try {
    const { agents } = await api('GET', '/api/v1/agents');
    setKeyState('ok', agents[0]?.user_id);
    const list = $('agents');
    list.replaceChildren();
    if (!agents.length) list.append(el('li', { class: 'muted' }, 'No agents yet: create one.'));
    const known = new Set(agents.map((a) => a.agent_id));
    for (const a of agents) {
      const row = el(
        'li',
        {
          class: `agent${state.agent === a.agent_id ? ' chosen' : ''}`,
          dataset: { agentId: a.agent_id },
          onclick: () => choose(a.agent_id),
        },
        el('span', { class: `badge ${a.state}`, dataset: { state: a.state } }, a.state),
        el('code', {}, a.agent_id),
        el(
          'span',
          { class: 'muted' },
          a.provider + (a.busy ? ' · busy' : '') + (a.queued ? ` · ${a.queued} queued` : ''),
        ),
        el('time', { class: 'muted created', datetime: a.created_at }, `created ${when(a.created_at)}`),
        el(
          'button',
          {
            type: 'button',
            class: 'terminal',
            title: 'A shell in its workspace',
            onclick: (e) => {
              e.stopPropagation();
              openTerminal(a.agent_id);
            },
          },
          'Terminal',
        ),
        el(
          'button',
          {
            type: 'button',
            class: 'delete',
            onclick: (e) => {
              e.stopPropagation();
              remove(a.agent_id);
            },
          },
          'Delete',
        ),
      );
      list.append(row);
    }
    // An agent chosen earlier that the backend no longer reports is shown as gone.
    if (state.agent && !known.has(state.agent)) {
      list.append(
        el(
          'li',
          { class: 'agent chosen', dataset: { agentId: state.agent } },
          el('span', { class: 'badge gone', dataset: { state: 'gone' } }, 'gone'),
          el('code', {}, state.agent),
        ),
      );
    }
    showError('');
  } catch (e) {
    if (e.status === 401) {
      setKeyState('refused');
      showError('That API key was not accepted.');
      return;
    }
    showError(e.message);
  }
  loadRemote();
}

/** The server's providers, each probed: unavailable ones are shown, disabled, with the reason. */
export async function loadProviders() {
  try {
    const { default_provider, providers } = await api('GET', '/api/v1/providers');
    const select = $('provider');
    const chosen = select.value;
    select.replaceChildren(el('option', { value: '' }, `default provider (${default_provider})`));
    for (const p of providers) {
      const label = `${p.name}${p.version ? ` ${p.version}` : ''}${p.available ? '' : ` — unavailable: ${p.reason || '?'}`}`;
      const option = el('option', { value: p.name }, label);
      if (!p.available) option.disabled = true;
      select.append(option);
    }
    select.value = chosen;
  } catch {
    // The key state says why; the default provider still works.
  }
}

async function loadRemote() {
  const list = $('remote-agents');
  try {
    const { enabled, agents } = await api('GET', '/api/v1/remote-agents');
    list.replaceChildren();
    if (!enabled) list.append(el('li', { class: 'muted' }, 'No dial-home hub on this platform (FORGE_HUB_PORT).'));
    else if (!agents.length) list.append(el('li', { class: 'muted' }, 'None enrolled.'));
    for (const a of agents) {
      const seen = a.last_seen ? ` · seen ${new Date(a.last_seen).toLocaleTimeString()}` : '';
      list.append(
        el(
          'li',
          { class: 'agent remote', dataset: { remoteId: a.id } },
          el('span', { class: `badge ${a.status}` }, a.status),
          el('code', {}, a.name),
          el('span', { class: 'muted' }, `${a.provider || '?'}${seen}`),
        ),
      );
    }
  } catch (e) {
    list.replaceChildren(el('li', { class: 'muted' }, e.message));
  }
}

export async function createAgent(event) {
  event.preventDefault();
  $('create-agent').disabled = true;
  try {
    const provider = $('provider').value;
    const agent = await api('POST', '/api/v1/agents', provider ? { provider } : {});
    await loadAgents();
    choose(agent.agent_id);
  } catch (e) {
    showError(e.message);
  } finally {
    $('create-agent').disabled = false;
  }
}

async function remove(agentId) {
  try {
    await api('DELETE', `/api/v1/agents/${agentId}`);
    if (state.agent === agentId) choose(undefined);
    await loadAgents();
  } catch (e) {
    showError(e.message);
  }
}

/** Makes an agent the one the conversation panel talks to (undefined: none). */
export function choose(agentId) {
  const changed = state.agent !== agentId;
  state.agent = agentId;
  $('chosen').textContent = agentId ? agentId : '(choose an agent)';
  $('send').disabled = !agentId;
  for (const li of document.querySelectorAll('li.agent')) li.classList.toggle('chosen', li.dataset.agentId === agentId);
  if (changed) {
    state.stream?.abort();
    state.live = false;
    $('events').replaceChildren();
    $('session').textContent = (agentId && state.sessions[agentId]) || '—';
  }
  const sentBefore = state.sent;
  loadHistory().then((runs) => {
    // Newest first: a run still going that this page does not follow yet (a reload, another tab's message) —
    // unless this page sent a message since (its own run, which `send` follows) or follows one already.
    const going = runs.find((r) => r.status === 'running' || r.status === 'queued');
    if (!going || agentId !== state.agent || state.sent !== sentBefore || state.live) return;
    resumeRun(going);
    loadHistory();
  });
}
