import { FitAddon } from '/vendor/addon-fit.mjs';
import { Terminal } from '/vendor/xterm.mjs';
import { api } from './api-client.js';
import { $, showError } from './dom.js';

// The terminal panel: a shell in an agent's workspace over the attach WebSocket, which speaks the
// Kubernetes exec channel protocol (first byte of each binary frame: 0 stdin, 1 stdout, 2 stderr,
// 3 exit status, 4 resize). A browser cannot set headers on a WebSocket, so it asks for a ticket.

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
const encoder = new TextEncoder();

let open;

function frame(channel, bytes) {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = channel;
  out.set(bytes, 1);
  return out;
}

export function closeTerminal() {
  open?.close();
  open = undefined;
  $('terminal-panel').hidden = true;
}

export async function openTerminal(agentId) {
  closeTerminal();
  const panel = $('terminal-panel');
  panel.hidden = false;
  $('terminal-agent').textContent = agentId;
  $('terminal-status').textContent = 'connecting…';
  $('terminal-status').dataset.state = 'connecting';
  const host = $('terminal');
  host.replaceChildren();
  const term = new Terminal({ cursorBlink: true, fontSize: 13, scrollback: 5000 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(host);
  fit.fit();
  let ticket;
  try {
    ticket = await api('POST', `/api/v1/agents/${encodeURIComponent(agentId)}/attach-tickets`);
  } catch (e) {
    showError(e.message);
    term.dispose();
    panel.hidden = true;
    return;
  }
  const url = new URL(ticket.url);
  // The page's own origin: the ticket's url names the host the API saw, which a proxy may have rewritten.
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.host = location.host;
  url.searchParams.set('tty', 'true');
  url.searchParams.set('cols', String(term.cols));
  url.searchParams.set('rows', String(term.rows));
  const ws = new WebSocket(url, ['v5.channel.k8s.io']);
  ws.binaryType = 'arraybuffer';
  const sendResize = () => {
    if (ws.readyState === WebSocket.OPEN)
      ws.send(frame(RESIZE, encoder.encode(JSON.stringify({ Width: term.cols, Height: term.rows }))));
  };
  const input = term.onData((text) => ws.readyState === WebSocket.OPEN && ws.send(frame(STDIN, encoder.encode(text))));
  const resized = term.onResize(sendResize);
  const onWindowResize = () => fit.fit();
  window.addEventListener('resize', onWindowResize);
  ws.onopen = () => {
    $('terminal-status').textContent = 'connected';
    $('terminal-status').dataset.state = 'open';
    term.focus();
  };
  ws.onmessage = (event) => {
    const data = new Uint8Array(event.data);
    if (data[0] === STDOUT || data[0] === STDERR) term.write(data.subarray(1));
    else if (data[0] === STATUS) {
      const status = JSON.parse(new TextDecoder().decode(data.subarray(1)));
      const code =
        status.status === 'Success' ? 0 : status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
      $('terminal-status').textContent = `exited${code !== undefined ? ` with ${code}` : ''}`;
      $('terminal-status').dataset.state = 'exited';
    }
  };
  ws.onclose = () => {
    if ($('terminal-status').dataset.state !== 'exited') {
      $('terminal-status').textContent = 'disconnected';
      $('terminal-status').dataset.state = 'closed';
    }
  };
  open = {
    close() {
      window.removeEventListener('resize', onWindowResize);
      input.dispose();
      resized.dispose();
      ws.close();
      term.dispose();
    },
  };
}
