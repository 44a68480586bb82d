export {
  startFakeExecServer,
  type ExecSession,
  type FakeExecServer,
  type FakeExecServerOptions,
} from './fake-exec-server.js';
