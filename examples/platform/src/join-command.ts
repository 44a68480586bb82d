/**
 * The one line that starts `examples/remote-agent` on another machine and enrols it with `token`: what `start`
 * and the demo print, and what `POST /api/v1/remote-agents/tokens` answers with.
 */
export function joinCommand(options: {
  hubUrl: string;
  token: string;
  name?: string;
  provider?: string;
  credentialFile?: string;
}): string {
  return [
    `FORGE_HUB_URL=${options.hubUrl}`,
    `FORGE_ENROLMENT_TOKEN=${options.token}`,
    ...(options.name ? [`FORGE_AGENT_NAME=${options.name}`] : []),
    `FORGE_PROVIDER=${options.provider ?? 'claude-code'}`,
    ...(options.credentialFile ? [`FORGE_CREDENTIAL_FILE=${options.credentialFile}`] : []),
    'npx -y pnpm@10.34.8 --filter @forge/example-remote-agent start',
  ].join(' ');
}
