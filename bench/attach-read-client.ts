import { createInterface } from 'node:readline';
import WebSocket from 'ws';

/**
 * The attach bench's fast client, in a process of its own so that its parsing is not charged to the
 * platform: for each line `<url> <key>` on stdin it attaches, counts stdout bytes, and prints them.
 */
for await (const line of createInterface({ input: process.stdin })) {
  const [url, key] = line.split(' ');
  const ws = new WebSocket(url!, ['v5.channel.k8s.io'], { headers: { authorization: `Bearer ${key}` } });
  let bytes = 0;
  ws.on('message', (d: Buffer) => {
    if (d[0] === 1) bytes += d.length - 1;
  });
  await new Promise((resolve) => ws.on('close', resolve));
  process.stdout.write(`${bytes}\n`);
}
