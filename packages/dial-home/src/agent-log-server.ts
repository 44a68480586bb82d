import { create } from '@bufbuild/protobuf';
import type { Logger } from '@forge/core';
import type { AsyncQueue } from '@forge/core/internal';
import { LogLinesSchema, type LogsRequest } from './gen/forge/dialhome/v1/dialhome_pb.js';
import { subjects } from './subject.js';
import type { Outgoing } from './wire.js';

/** What the agent program gives the platform to read (DialHomeOptions.logs). */
export type AgentLogSource = (options: { tail: number; follow: boolean; signal: AbortSignal }) => AsyncIterable<string>;

/** The most lines one read starts with, a line's length, and the reads open at once on one link. */
export const MAX_LOG_TAIL = 5_000;
const MAX_LINE = 8_192;
const MAX_READS = 8;
/** Lines that pile up while the link is busy leave together, up to about this many bytes. */
const MAX_BATCH_BYTES = 256 * 1024;

/**
 * The agent side of the platform's log reads: each LogsRequest starts a read of `source` (bounded tail, cut
 * lines, a few reads at once), sent back as LogLines under the request's stream id and ended with `end`; a
 * `stop` or the link going ends it. An agent without a source answers every read with an empty end.
 */
export class AgentLogServer {
  private readonly reads = new Map<string, AbortController>();

  constructor(
    private readonly source: AgentLogSource | undefined,
    private readonly agentId: string,
    private readonly outbound: AsyncQueue<Outgoing>,
    private readonly logger: Logger,
  ) {}

  handle(request: LogsRequest): void {
    const { streamId } = request;
    if (request.stop) {
      this.reads.get(streamId)?.abort();
      return;
    }
    if (!this.source || this.reads.has(streamId) || this.reads.size >= MAX_READS) {
      this.end(streamId);
      return;
    }
    const reading = new AbortController();
    this.reads.set(streamId, reading);
    const subject = subjects.logs(this.agentId, streamId);
    const source = this.source;
    void (async () => {
      try {
        const lines = source({
          tail: Math.min(request.tail, MAX_LOG_TAIL),
          follow: request.follow,
          signal: reading.signal,
        });
        for await (const raw of lines) {
          if (reading.signal.aborted) break;
          const line = raw.length > MAX_LINE ? `${raw.slice(0, MAX_LINE)}…` : raw;
          const ok = this.outbound.push(
            { subject, body: { case: 'logLines', value: create(LogLinesSchema, { streamId, lines: [line] }) } },
            (last) => {
              const b = last.body;
              if (last.subject !== subject || b.case !== 'logLines' || b.value.end) return false;
              const bytes = b.value.lines.reduce((n, l) => n + l.length, 0);
              if (bytes + line.length > MAX_BATCH_BYTES) return false;
              b.value.lines.push(line);
              return true;
            },
          );
          if (!ok) await this.outbound.drained();
        }
      } catch (error) {
        this.logger.warn('reading the log for the platform failed', { error: String(error) });
      } finally {
        this.reads.delete(streamId);
        this.end(streamId);
      }
    })();
  }

  private end(streamId: string): void {
    this.outbound.push({
      subject: subjects.logs(this.agentId, streamId),
      body: { case: 'logLines', value: create(LogLinesSchema, { streamId, end: true }) },
    });
  }

  /** The link is gone: every read stops. */
  close(): void {
    for (const reading of this.reads.values()) reading.abort();
    this.reads.clear();
  }
}
