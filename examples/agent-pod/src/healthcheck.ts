/** For a container HEALTHCHECK: exits 0 when this pod answers grpc.health.v1 Check with SERVING. */
import { checkHealth } from '@forge/transport-grpc';

const port = process.env.PORT || '8080';
try {
  process.exit((await checkHealth(`http://127.0.0.1:${port}`, { timeoutMs: 3_000 })) === 'SERVING' ? 0 : 1);
} catch {
  process.exit(1);
}
