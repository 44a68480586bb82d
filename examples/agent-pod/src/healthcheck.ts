/** For a container HEALTHCHECK: exits 0 when this pod answers grpc.health.v1 Check with SERVING. */
import { checkHealth } from '@forge/transport-grpc';

const port = process.env.PORT || '8080';
const tls = Boolean(process.env.FORGE_TLS_CERT_FILE);
try {
  const status = await checkHealth(`${tls ? 'https' : 'http'}://127.0.0.1:${port}`, {
    timeoutMs: 3_000,
    // The probe asks the pod on its own loopback whether it answers; its certificate names the service, not 127.0.0.1.
    ...(tls ? { tls: { rejectUnauthorized: false } } : {}),
  });
  process.exit(status === 'SERVING' ? 0 : 1);
} catch {
  process.exit(1);
}
