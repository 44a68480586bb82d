import { el } from './dom.js';

// The files a run changed, one collapsed entry per path. A diff is turned into lines only when its entry is
// opened, and an update touches only its own entry: a run with hundreds of files and a 10,000-line diff costs
// one small node per event, never a re-render of the list.

/** The run's "files changed" box: `update(ev)` takes each file.changed event. */
export function fileChangesBox() {
  const list = el('div', { class: 'file-list' });
  const count = el('span', { class: 'count muted' }, '');
  const box = el(
    'section',
    { class: 'ev files', 'aria-label': 'files changed' },
    el('h3', {}, 'Files changed ', count),
    list,
  );
  const entries = new Map();
  return {
    box,
    update(ev) {
      let entry = entries.get(ev.path);
      if (!entry) {
        entry = fileEntry();
        entries.set(ev.path, entry);
        list.append(entry.node);
        count.textContent = `(${entries.size})`;
      }
      entry.show(ev);
    },
  };
}

function fileEntry() {
  const summary = el('summary');
  const body = el('pre', { class: 'diff' });
  const node = el('details', { class: 'file' }, summary, body);
  let diff = '';
  let drawn = false;
  const draw = () => {
    body.replaceChildren(...diffLines(diff));
    drawn = true;
  };
  node.addEventListener('toggle', () => node.open && !drawn && draw());
  return {
    node,
    show(ev) {
      diff = ev.diff ?? '';
      drawn = false;
      node.dataset.path = ev.path;
      node.dataset.change = ev.change;
      const { added, removed } = countLines(diff);
      summary.replaceChildren(
        el('span', { class: `change ${ev.change}` }, ev.change),
        ' ',
        el('code', { class: 'path' }, ev.oldPath ? `${ev.oldPath} → ${ev.path}` : ev.path),
        ' ',
        el('span', { class: 'added' }, `+${added}`),
        ' ',
        el('span', { class: 'removed' }, `−${removed}`),
      );
      if (node.open) draw();
      else body.replaceChildren();
    },
  };
}

/** A unified diff's lines, coloured by what they do (no syntax colouring: any language reads the same). */
function diffLines(diff) {
  if (!diff) return [el('span', { class: 'muted' }, '(no diff given)')];
  return diff
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => el('span', { class: `line ${lineKind(line)}` }, `${line}\n`));
}

function lineKind(line) {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('Index:') || line.startsWith('===='))
    return 'head';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return 'ctx';
}

function countLines(diff) {
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++')) added++;
    else if (line.startsWith('-') && !line.startsWith('---')) removed++;
  }
  return { added, removed };
}
