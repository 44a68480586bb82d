import { el } from './dom.js';
import { answerQuestion } from './replies.js';

/**
 * A question.requested event as a form: options as buttons (toggles where `multiple`), a text box where
 * `custom`. One question with one choice is answered by a click; anything else by "Send answer".
 */
export function renderQuestion(ev) {
  const box = el('div', { class: 'ev question', dataset: { questionId: ev.id } });
  const chosen = ev.questions.map(() => new Set());
  const typed = ev.questions.map(() => '');
  const oneClick = ev.questions.length === 1 && !ev.questions[0].multiple;
  const collect = () =>
    ev.questions.map((q, i) => (typed[i] ? [...(q.multiple ? chosen[i] : []), typed[i]] : [...chosen[i]]));
  const send = el('button', { type: 'button', class: 'send-answer' }, 'Send answer');
  send.onclick = () => answerQuestion(ev.id, collect(), box);
  ev.questions.forEach((q, i) => {
    const part = el('div', { class: 'q', dataset: { index: String(i) } });
    if (q.header) part.append(el('span', { class: 'chip' }, q.header), ' ');
    part.append(
      el('span', { class: 'q-text' }, q.question),
      q.multiple ? el('span', { class: 'muted' }, ' (choose any)') : '',
    );
    const options = el('div', { class: 'options' });
    for (const o of q.options) {
      const b = el(
        'button',
        { type: 'button', class: 'option', dataset: { label: o.label }, 'aria-pressed': 'false' },
        o.label,
      );
      if (o.description) b.title = o.description;
      b.onclick = () => {
        if (oneClick) return answerQuestion(ev.id, [[o.label]], box);
        if (!q.multiple) {
          chosen[i].clear();
          for (const other of options.querySelectorAll('button.option')) other.setAttribute('aria-pressed', 'false');
        }
        if (chosen[i].has(o.label)) chosen[i].delete(o.label);
        else chosen[i].add(o.label);
        b.setAttribute('aria-pressed', String(chosen[i].has(o.label)));
      };
      options.append(b, o.description ? el('span', { class: 'muted' }, ` ${o.description} `) : ' ');
    }
    part.append(options);
    if (q.custom) {
      const input = el('input', { type: 'text', class: 'custom', placeholder: 'or type your own answer' });
      input.oninput = () => (typed[i] = input.value.trim());
      input.onkeydown = (e) => e.key === 'Enter' && typed[i] && answerQuestion(ev.id, collect(), box);
      part.append(input);
      if (oneClick) {
        const typedSend = el('button', { type: 'button', class: 'send-answer' }, 'Send');
        typedSend.onclick = () => typed[i] && answerQuestion(ev.id, collect(), box);
        part.append(' ', typedSend);
      }
    }
    box.append(part);
  });
  if (!oneClick) box.append(send);
  return box;
}
