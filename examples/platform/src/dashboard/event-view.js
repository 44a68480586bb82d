import { loadAgents } from './agents.js';
import { $, el } from './dom.js';
import { renderQuestion } from './question-form.js';
import { answer } from './replies.js';
import { state } from './state.js';

// A run's events as the conversation shows them. Text deltas grow one block until a message,
// a tool call or a question ends it.
let currentText;

/** A new run starts: its text goes into a block of its own. */
export function newRun() {
  currentText = undefined;
}

/** Shows one event of the run being followed. */
export function render(ev) {
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
