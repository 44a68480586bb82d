import { loadAgents } from './agents.js';
import { $, el } from './dom.js';
import { fileChangesBox } from './file-changes.js';
import { planBox } from './plan-view.js';
import { renderQuestion } from './question-form.js';
import { answer } from './replies.js';
import { state } from './state.js';

// A run's events as the conversation shows them. Text deltas grow one block until a message,
// a tool call or a question ends it. Each event adds or updates one node: nothing is drawn twice.
let currentText;
// Per run: the files-changed and plan boxes (made on their first event), and the box under each tool call
// that started a subagent, where the subagent's own events go.
let files;
let plan;
let nests = new Map();

/** A new run starts: its text goes into a block of its own. */
export function newRun() {
  currentText = undefined;
  files = undefined;
  plan = undefined;
  nests = new Map();
}

/** Where an event goes: under the tool call that started its subagent, else the conversation. */
function container(ev) {
  const box = $('events');
  if (!ev.parentToolCallId) return box;
  let nest = nests.get(ev.parentToolCallId);
  if (!nest) {
    nest = el('div', { class: 'subagent', dataset: { parentToolCallId: ev.parentToolCallId } });
    const call = [...box.querySelectorAll('.ev.tool[data-call-id]')].find(
      (n) => n.dataset.callId === ev.parentToolCallId,
    );
    (call ?? box).append(nest);
    nests.set(ev.parentToolCallId, nest);
  }
  return nest;
}

/** Shows one event of the run being followed. */
export function render(ev) {
  const box = container(ev);
  if (currentText && currentText.parentElement !== box) currentText = undefined;
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
    case 'permission.resolved':
    case 'question.resolved':
      resolved(ev, box);
      break;
    case 'file.changed':
      if (!files) box.append((files = fileChangesBox()).box);
      files.update(ev);
      break;
    case 'plan.updated':
      if (!plan) box.append((plan = planBox()).box);
      plan.update(ev);
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
        ...(r.output !== undefined
          ? [el('pre', { class: 'ev output', 'aria-label': 'structured answer' }, JSON.stringify(r.output, null, 2))]
          : []),
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

/** Who decided a permission or question: the host (a person here, or a program), a rule, or a deadline. */
function resolved(ev, box) {
  const kind = ev.type === 'permission.resolved' ? 'permission' : 'question';
  const asked = $('events').querySelector(`.ev.${kind}[data-${kind}-id="${CSS.escape(ev.id)}"]`);
  const what = ev.type === 'permission.resolved' ? ev.decision : 'answered';
  const note = el('span', { class: 'resolved muted', dataset: { by: ev.by } }, ` ${what} by ${ev.by}`);
  if (asked) {
    for (const control of asked.querySelectorAll('button, input')) control.disabled = true;
    asked.append(note);
  } else
    box.append(el('div', { class: `ev ${kind} resolved-only`, dataset: { by: ev.by } }, `${kind} ${ev.id}:`, note));
}
