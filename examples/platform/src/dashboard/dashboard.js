// The Forge platform dashboard: plain browser JavaScript, no build step, no framework.
// Everything from the server is rendered with textContent, never as HTML.
const $ = (id) => document.getElementById(id);
// sessions: the last session id per agent; the conversation itself is read back from the runs endpoints.
const state = {
  key: sessionStorage.getItem('forgeKey') || '',
  agent: undefined,
  stream: undefined,
  requestId: undefined,
  sessions: {},
};

function showError(message) {
  $('error').textContent = message || '';
}

const KEY_STATES = {
  none: 'No API key yet: paste one to start.',
  checking: 'Checking the key…',
  ok: 'Key accepted',
  refused: 'Key refused: the platform does not know this API key. Check it and try again.',
};

/** One clear state for the key: without an accepted key nothing else on the page can work, so say so. */
function setKeyState(which, who) {
  const box = $('key-state');
  box.dataset.state = which;
  box.textContent = which === 'ok' && who ? `${KEY_STATES.ok} (user ${who})` : KEY_STATES[which];
  document.body.dataset.key = which;
  for (const id of ['create-agent', 'refresh-agents']) $(id).disabled = which === 'refused' || which === 'none';
  if (which === 'refused') {
    $('agents').replaceChildren(el('li', { class: 'muted' }, 'Agents appear here once the key is accepted.'));
    $('history').replaceChildren();
    $('send').disabled = true;
  }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${state.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data?.error?.message || `HTTP ${res.status}`);
    err.status = res.status;
    err.code = data?.error?.code;
    throw err;
  }
  return data;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// --- agents -----------------------------------------------------------------------------------

async function loadAgents() {
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

const when = (iso) => {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
};

/** The server's providers, each probed: unavailable ones are shown, disabled, with the reason. */
async function loadProviders() {
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

/**
 * The agent's past runs from the server (newest first there, oldest first here): the user's own message, the
 * reply, status, usage, cost and session. The run shown live below is left out until it is finished.
 */
async function loadHistory() {
  const agentId = state.agent;
  const list = $('history');
  if (!agentId) return list.replaceChildren();
  try {
    const { runs } = await api('GET', `/api/v1/agents/${agentId}/runs?limit=50`);
    if (agentId !== state.agent) return;
    const latest = runs.find((r) => r.result?.sessionId);
    if (latest && !state.sessions[agentId]) state.sessions[agentId] = latest.result.sessionId;
    $('session').textContent = state.sessions[agentId] || '—';
    list.replaceChildren();
    for (const r of runs.slice().reverse()) {
      if (r.request_id === state.requestId && state.live) continue;
      list.append(turn(r));
    }
    if (!runs.length) list.append(el('li', { class: 'muted' }, 'No messages yet.'));
  } catch (e) {
    list.replaceChildren(el('li', { class: 'muted' }, e.message));
  }
}

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
    res
      ? el('div', { class: 'reply' }, res.text || (res.error ? `${res.error.code}: ${res.error.message}` : '(no text)'))
      : '',
  );
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

async function createAgent(event) {
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

function choose(agentId) {
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
  loadHistory();
}

// --- a run ------------------------------------------------------------------------------------

async function send(event) {
  event.preventDefault();
  const content = $('message').value;
  if (!state.agent || !content.trim()) return;
  state.stream?.abort();
  state.live = false;
  await loadHistory();
  $('events').replaceChildren(el('div', { class: 'user-msg' }, content));
  currentText = undefined;
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

async function interrupt() {
  try {
    await api('POST', `/api/v1/agents/${state.agent}/interrupt`);
  } catch (e) {
    showError(e.message);
  }
}

async function answer(permissionId, decision, buttons) {
  for (const b of buttons) b.disabled = true;
  try {
    await api('POST', `/api/v1/agents/${state.agent}/permissions/${encodeURIComponent(permissionId)}`, { decision });
    buttons[0].parentElement.append(el('span', { class: 'muted decided' }, ` → ${decision}`));
  } catch (e) {
    showError(e.message);
    for (const b of buttons) b.disabled = false;
  }
}

async function answerQuestion(questionId, answers, box) {
  const controls = box.querySelectorAll('button, input');
  for (const c of controls) c.disabled = true;
  try {
    await api('POST', `/api/v1/agents/${state.agent}/questions/${encodeURIComponent(questionId)}`, { answers });
    box.append(el('div', { class: 'muted decided' }, `→ ${answers.map((a) => a.join(', ')).join(' / ')}`));
  } catch (e) {
    showError(e.message);
    for (const c of controls) c.disabled = false;
  }
}

/**
 * A question.requested event as a form: options as buttons (toggles where `multiple`), a text box where
 * `custom`. One question with one choice is answered by a click; anything else by "Send answer".
 */
function renderQuestion(ev) {
  const box = el('div', { class: 'ev question', dataset: { questionId: ev.id } });
  const chosen = ev.questions.map(() => new Set());
  const typed = ev.questions.map(() => '');
  const oneClick = ev.questions.length === 1 && !ev.questions[0].multiple;
  const collect = () =>
    ev.questions.map((q, i) => (typed[i] ? [...(q.multiple ? chosen[i] : []), typed[i]] : [...chosen[i]]));
  const send = el('button', { type: 'button', class: 'send-answer' }, 'Send answer');
  send.onclick = () => answerQuestion(ev.id, collect(), box);
  ev.questions.forEach((q, i) => {
    const part = el('div', { class: 'q', dataset: { index: String(i) } });
    if (q.header) part.append(el('span', { class: 'chip' }, q.header), ' ');
    part.append(
      el('span', { class: 'q-text' }, q.question),
      q.multiple ? el('span', { class: 'muted' }, ' (choose any)') : '',
    );
    const options = el('div', { class: 'options' });
    for (const o of q.options) {
      const b = el(
        'button',
        { type: 'button', class: 'option', dataset: { label: o.label }, 'aria-pressed': 'false' },
        o.label,
      );
      if (o.description) b.title = o.description;
      b.onclick = () => {
        if (oneClick) return answerQuestion(ev.id, [[o.label]], box);
        if (!q.multiple) {
          chosen[i].clear();
          for (const other of options.querySelectorAll('button.option')) other.setAttribute('aria-pressed', 'false');
        }
        if (chosen[i].has(o.label)) chosen[i].delete(o.label);
        else chosen[i].add(o.label);
        b.setAttribute('aria-pressed', String(chosen[i].has(o.label)));
      };
      options.append(b, o.description ? el('span', { class: 'muted' }, ` ${o.description} `) : ' ');
    }
    part.append(options);
    if (q.custom) {
      const input = el('input', { type: 'text', class: 'custom', placeholder: 'or type your own answer' });
      input.oninput = () => (typed[i] = input.value.trim());
      input.onkeydown = (e) => e.key === 'Enter' && typed[i] && answerQuestion(ev.id, collect(), box);
      part.append(input);
      if (oneClick) {
        const typedSend = el('button', { type: 'button', class: 'send-answer' }, 'Send');
        typedSend.onclick = () => typed[i] && answerQuestion(ev.id, collect(), box);
        part.append(' ', typedSend);
      }
    }
    box.append(part);
  });
  if (!oneClick) box.append(send);
  return box;
}

/** Reads the SSE stream with fetch (EventSource cannot send the Authorization header); resumes by Last-Event-ID. */
async function follow(agentId, requestId) {
  const controller = new AbortController();
  state.stream = controller;
  let lastId = 0;
  for (let attempt = 0; attempt < 5 && !controller.signal.aborted; attempt++) {
    try {
      const res = await fetch(`/api/v1/agents/${agentId}/events?request_id=${requestId}`, {
        headers: {
          authorization: `Bearer ${state.key}`,
          accept: 'text/event-stream',
          ...(lastId ? { 'last-event-id': String(lastId) } : {}),
        },
        signal: controller.signal,
      });
      if (!res.ok) throw new Error(`event stream: HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = frame
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (!data) continue;
          const ev = JSON.parse(data);
          lastId = ev.seq;
          render(ev);
          if (ev.type === 'run.completed') return;
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
      showError(e.message);
    }
    await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
  }
}

let currentText;

function render(ev) {
  const box = $('events');
  switch (ev.type) {
    case 'text.delta':
      if (!currentText) box.append((currentText = el('div', { class: 'ev text' })));
      currentText.textContent += ev.text;
      break;
    case 'message':
      if (!currentText) box.append(el('div', { class: 'ev text' }, ev.text));
      else currentText.textContent = ev.text;
      currentText = undefined;
      break;
    case 'tool.call':
      currentText = undefined;
      box.append(
        el(
          'div',
          { class: 'ev tool', dataset: { callId: ev.callId } },
          `tool call: ${ev.name} ${JSON.stringify(ev.input)}`,
        ),
      );
      break;
    case 'tool.result':
      box.append(
        el(
          'div',
          { class: `ev tool${ev.isError ? ' error' : ''}` },
          `tool result: ${typeof ev.output === 'string' ? ev.output : JSON.stringify(ev.output)}`.slice(0, 2000),
        ),
      );
      break;
    case 'permission.requested': {
      const approve = el('button', { type: 'button', class: 'approve' }, 'Approve');
      const deny = el('button', { type: 'button', class: 'deny' }, 'Deny');
      approve.onclick = () => answer(ev.id, 'allow', [approve, deny]);
      deny.onclick = () => answer(ev.id, 'deny', [approve, deny]);
      box.append(
        el(
          'div',
          { class: 'ev permission', dataset: { permissionId: ev.id } },
          `May the agent use ${ev.tool} ${JSON.stringify(ev.input)}? `,
          approve,
          ' ',
          deny,
        ),
      );
      break;
    }
    case 'question.requested':
      currentText = undefined;
      box.append(renderQuestion(ev));
      break;
    case 'error':
      box.append(el('div', { class: 'ev error' }, `${ev.code}: ${ev.message}`));
      break;
    case 'run.completed': {
      const r = ev.result;
      if (r.sessionId && state.agent) state.sessions[state.agent] = r.sessionId;
      $('session').textContent = r.sessionId || '—';
      box.append(
        el(
          'div',
          { class: `ev result ${r.status}`, dataset: { status: r.status } },
          `${r.status}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''} — ${r.text || '(no text)'}`,
        ),
        el(
          'div',
          { class: 'run-meta muted' },
          `${r.usage.inputTokens} in / ${r.usage.outputTokens} out tokens · ${r.costUsd !== undefined ? `$${r.costUsd.toFixed(4)}` : 'no cost reported'}`,
        ),
      );
      $('run-status').textContent = `${r.status} in ${(r.durationMs / 1000).toFixed(1)} s`;
      $('run-status').dataset.status = r.status;
      $('interrupt').disabled = true;
      loadAgents();
      break;
    }
    default:
      break;
  }
}

// --- start ------------------------------------------------------------------------------------

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  state.key = $('api-key').value.trim();
  sessionStorage.setItem('forgeKey', state.key);
  $('who').textContent = 'key set for this tab';
  setKeyState('checking');
  loadAgents().then(() => document.body.dataset.key === 'ok' && loadProviders());
});
$('create-form').addEventListener('submit', createAgent);
$('refresh-agents').addEventListener('click', loadAgents);
$('message-form').addEventListener('submit', send);
$('interrupt').addEventListener('click', interrupt);
if (state.key) {
  $('api-key').value = state.key;
  setKeyState('checking');
  loadAgents().then(() => document.body.dataset.key === 'ok' && loadProviders());
} else setKeyState('none');
setInterval(() => state.key && document.body.dataset.key === 'ok' && loadAgents(), 10_000);
