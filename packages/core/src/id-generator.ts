export type IdGenerator = () => string;

export const randomId: IdGenerator = () => `run_${globalThis.crypto.randomUUID()}`;
