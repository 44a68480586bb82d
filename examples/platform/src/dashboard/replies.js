import { api } from './api-client.js';
import { el, showError } from './dom.js';
import { state } from './state.js';

// Replies to what the running run waits on: a permission decision, a question's answers.

export async function answer(permissionId, decision, buttons) {
  for (const b of buttons) b.disabled = true;
  try {
    await api('POST', `/api/v1/agents/${state.agent}/permissions/${encodeURIComponent(permissionId)}`, { decision });
    buttons[0].parentElement.append(el('span', { class: 'muted decided' }, ` → ${decision}`));
  } catch (e) {
    showError(e.message);
    for (const b of buttons) b.disabled = false;
  }
}

export async function answerQuestion(questionId, answers, box) {
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
