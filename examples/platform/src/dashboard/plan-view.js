import { el } from './dom.js';

const MARK = { pending: '☐', in_progress: '◐', completed: '☑' };

/** The run's plan as a checklist; each plan.updated carries the whole plan, so the list is redrawn from it. */
export function planBox() {
  const list = el('ol', { class: 'plan-list' });
  const box = el('section', { class: 'ev plan', 'aria-label': 'plan' }, el('h3', {}, 'Plan'), list);
  return {
    box,
    update(ev) {
      list.replaceChildren(
        ...ev.entries.map((entry) =>
          el(
            'li',
            { class: `plan-entry ${entry.status}`, dataset: { status: entry.status } },
            el('span', { class: 'mark', 'aria-hidden': 'true' }, MARK[entry.status] ?? '·'),
            ' ',
            entry.content,
          ),
        ),
      );
    },
  };
}
