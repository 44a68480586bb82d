import { createInterface } from 'node:readline';
import WebSocket from 'ws';

/**
 * The attach bench's fast client, in a process of its own so that its parsing is not charged to the
 * platform: for each line `<url> <key>` on stdin it attaches, counts stdout bytes, and prints them with the CPU
 * time (ms) this process spent on that attach and the number of messages (bytes / messages: the frame size).
 * It reads as a Kubernetes exec client does (client-node's `Exec` is ws with its defaults too), without copying.
 */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
for await (const line of createInterface({ input: process.stdin })) {
  const [url, key] = line.split(' ');
  const cpu0 = cpuMs();
  const ws = new WebSocket(url!, ['v5.channel.k8s.io'], { headers: { authorization: `Bearer ${key}` } });
  let bytes = 0;
  let messages = 0;
  ws.on('message', (d: Buffer) => {
    messages++;
    if (d[0] === 1) bytes += d.length - 1;
  });
  await new Promise((resolve) => ws.on('close', resolve));
  process.stdout.write(`${bytes} ${(cpuMs() - cpu0).toFixed(1)} ${messages}\n`);
}
