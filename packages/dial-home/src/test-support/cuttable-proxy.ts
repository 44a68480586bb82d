import * as net from 'node:net';

/** A TCP proxy in front of the hub, to cut or black-hole the network under a live link. */
export class CuttableProxy {
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private server!: net.Server;
  private holed = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      for (const s of pair) {
        s.on('close', () => {
          this.pairs.delete(pair);
          for (const other of pair) other.destroy();
        });
        s.on('error', () => {});
      }
      if (this.holed) client.pause();
      else client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Drops every connection through the proxy, as a network outage does. */
  cut(): void {
    for (const pair of this.pairs) for (const s of pair) s.destroy();
  }

  /**
   * Stops carrying bytes, without closing anything, on the connections open now and on new ones:
   * a frozen peer or a black-holed route, which only missed heartbeats reveal.
   */
  blackhole(): void {
    this.holed = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** The route is back: black-holed connections are reset, new ones pass. */
  heal(): void {
    this.holed = false;
    this.cut();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
