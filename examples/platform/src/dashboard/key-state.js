import { $, el } from './dom.js';

const KEY_STATES = {
  none: 'No API key yet: paste one to start.',
  checking: 'Checking the key…',
  ok: 'Key accepted',
  refused: 'Key refused: the platform does not know this API key. Check it and try again.',
};

/** One clear state for the key: without an accepted key nothing else on the page can work, so say so. */
export function setKeyState(which, who) {
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
