// The Forge platform dashboard: plain browser JavaScript modules, served as they are (no build step,
// no framework). This entry wires the page's forms and buttons to the modules and starts.
import { createAgent, loadAgents, loadProviders } from './agents.js';
import { $ } from './dom.js';
import { setKeyState } from './key-state.js';
import { interrupt, send } from './messages.js';
import { loadSpend } from './spend.js';
import { state } from './state.js';
import { closeTerminal } from './terminal.js';

const start = () =>
  loadAgents().then(() => {
    if (document.body.dataset.key !== 'ok') return;
    loadProviders();
    loadSpend();
  });

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  state.key = $('api-key').value.trim();
  sessionStorage.setItem('forgeKey', state.key);
  $('who').textContent = 'key set for this tab';
  setKeyState('checking');
  start();
});
$('create-form').addEventListener('submit', createAgent);
$('refresh-agents').addEventListener('click', loadAgents);
$('message-form').addEventListener('submit', send);
$('interrupt').addEventListener('click', interrupt);
$('terminal-close').addEventListener('click', closeTerminal);
if (state.key) {
  $('api-key').value = state.key;
  setKeyState('checking');
  start();
} else setKeyState('none');
setInterval(() => {
  if (!state.key || document.body.dataset.key !== 'ok') return;
  loadAgents();
  loadSpend();
}, 10_000);
