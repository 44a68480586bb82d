import { showError } from './dom.js';
import { render } from './event-view.js';
import { state } from './state.js';

/** Reads the SSE stream with fetch (EventSource cannot send the Authorization header); resumes by Last-Event-ID. */
export async function follow(agentId, requestId) {
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
