// What the page remembers. sessions: the last session id per agent; the conversation itself is read
// back from the runs endpoints.
export const state = {
  key: sessionStorage.getItem('forgeKey') || '',
  agent: undefined,
  stream: undefined,
  requestId: undefined,
  sessions: {},
  // Messages this page has sent: a run found going when an agent is chosen is resumed only if none was sent since.
  sent: 0,
};
