// For bench/k8s.bench.ts: @kubernetes/client-node is a dependency of this package only, so code outside it
// (the repository's bench/) reaches the library's own Exec — the baseline — through here.
export { Exec } from '@kubernetes/client-node';
