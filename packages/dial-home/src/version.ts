/** The @forge/dial-home version, announced by agents in their Hello unless the host says otherwise. */
export const DIAL_HOME_VERSION = '0.1.0';
