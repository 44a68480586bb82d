// What the page remembers. sessions: the last session id per agent; the conversation itself is read
// back from the runs endpoints.
export const state = {
  key: sessionStorage.getItem('forgeKey') || '',
  agent: undefined,
  stream: undefined,
  requestId: undefined,
  sessions: {},
};
