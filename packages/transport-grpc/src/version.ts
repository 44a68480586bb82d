// Read from package.json when bundled (tsup inlines the one field), so a release's version bump is the only edit.
import { version } from '../package.json';

/** Reported by GetStatus. */
export const TRANSPORT_GRPC_VERSION: string = version;
