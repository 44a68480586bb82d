import * as ai from 'ai';
import { uiMessageStreamCases } from './test-support/ui-stream-cases.js';

// The current `ai` (7.x): the package's own createUIMessageStream writes, its readUIMessageStream reads back.
uiMessageStreamCases(ai);
