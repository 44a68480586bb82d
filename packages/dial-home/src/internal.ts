/**
 * @forge/dial-home/internal — the hub's and the agent's parts (subject matching, the credential file, token
 * verification), for the other Forge packages and the repository's benchmarks.
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/dial-home` only.
 */
export { compilePattern, parseSubject, type ParsedSubject, type SubjectMatcher } from './subject.js';
export { readCredentialFile, writeCredentialFile } from './credential-file.js';
export { verifyEnrolmentToken } from './enrolment-token.js';
export { hashCredential } from './credential.js';
export { dialHomeProviderNotes } from './provider-notes.js';
