/**
 * Edits a line diff may find before an adapter gives up on a minimal one (jsdiff's `maxEditLength`). Myers' diff
 * costs about the square of the edits: 10,000 lines that all changed took 13–14 s of CPU on the host's event loop
 * (one `file.changed` of an agent that rewrote a file); 1,000 edits take a few tens of milliseconds.
 */
export const MAX_DIFF_EDITS = 1_000;

/**
 * A unified diff that replaces all of `before` with all of `after` in one hunk, written as jsdiff's
 * `createTwoFilesPatch` with file headers only writes it (the same text when no line is common): what a
 * `file.changed` carries when a minimal diff would cost more than `MAX_DIFF_EDITS`. Still a valid patch.
 * `linesBefore`: where `before` starts in its file (a region of it), so the hunk is placed there.
 */
export function wholeFilePatch(
  oldName: string,
  newName: string,
  before: string,
  after: string,
  linesBefore = 0,
): string {
  const head = `--- ${oldName}\n+++ ${newName}\n`;
  if (before === after) return head;
  const side = (text: string, sign: '-' | '+') => {
    if (text === '') return { count: 0, lines: '' };
    const ends = text.endsWith('\n');
    const lines = (ends ? text.slice(0, -1) : text).split('\n');
    return {
      count: lines.length,
      lines: lines.map((l) => `${sign}${l}\n`).join('') + (ends ? '' : '\\ No newline at end of file\n'),
    };
  };
  const old = side(before, '-');
  const next = side(after, '+');
  const start = (count: number) => (count ? 1 : 0) + linesBefore;
  return `${head}@@ -${start(old.count)},${old.count} +${start(next.count)},${next.count} @@\n${old.lines}${next.lines}`;
}
