// Read from package.json when bundled (tsup inlines the one field), so a release's version bump is the only edit.
import { version } from '../package.json';

/** The @forge/dial-home version, announced by agents in their Hello unless the host says otherwise. */
export const DIAL_HOME_VERSION: string = version;
