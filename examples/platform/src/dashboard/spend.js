import { api } from './api-client.js';
import { $ } from './dom.js';

/** What this key spent today (UTC) against its daily cap, if it has one; quiet on a server without the route. */
export async function loadSpend() {
  const line = $('spend');
  try {
    const { spent, cap, resets_at } = await api('GET', '/api/v1/spend');
    const cost = `$${spent.cost_usd.toFixed(4)}${cap?.cost_usd !== undefined ? ` of $${cap.cost_usd}` : ''}`;
    const tokens = `${spent.tokens.toLocaleString()}${cap?.tokens !== undefined ? ` of ${cap.tokens.toLocaleString()}` : ''} tokens`;
    const capped = cap && (cap.cost_usd !== undefined || cap.tokens !== undefined);
    line.textContent = `Spent today: ${cost} · ${tokens}${capped ? ` · resets ${new Date(resets_at).toLocaleString()}` : ' (no daily cap)'}`;
    const over =
      (cap?.cost_usd !== undefined && spent.cost_usd >= cap.cost_usd) ||
      (cap?.tokens !== undefined && spent.tokens >= cap.tokens);
    line.dataset.state = over ? 'spent' : 'ok';
  } catch {
    line.textContent = '';
  }
}
