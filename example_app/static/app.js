// Small touches around the widget, built on its public DOM events only. Nothing here is needed for calls.
(() => {
  /** @type {(() => Promise<void>) | null} set on the Calls page */
  let refresh = null;
  // Home: once a call ends, point at the Calls page, where its report is about to land.
  const ended = document.getElementById('call-ended');
  if (ended) document.addEventListener('hms:ended', () => (ended.hidden = false));

  // A rating (or a comment) given in any tab of this site: every open Calls page shows it at once, rather
  // than on its next tick.
  const rated = 'BroadcastChannel' in window ? new BroadcastChannel('northwind-feedback') : null;
  document.addEventListener('hms:feedback', (e) => {
    if (e.detail.result !== 'sent') return;
    rated?.postMessage(e.detail.callId);
    refresh?.();
  });
  // Home: the page action show_order ({order_id}) the assistant may call (see create_app): highlight that
  // order. Its args are data, so the order is looked up by its number, never written into the page as HTML.
  const orders = document.getElementById('orders');
  const call = document.getElementById('hero-call');
  if (orders && call) {
    customElements.whenDefined('hms-webcall').then(() => {
      call.actions.register('show_order', ({ order_id: id }) => {
        const order = [...orders.querySelectorAll('[data-order]')].find((el) => el.dataset.order === String(id));
        if (!order) throw new Error(`no order ${id} on this page`);
        for (const el of orders.querySelectorAll('.shown')) el.classList.remove('shown');
        order.classList.add('shown');
        order.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
        document.getElementById('order-shown').textContent = `The assistant is showing order ${id}.`;
      });
      // The page tool order_on_screen: the assistant asks which order this page shows; the page answers
      // from its own state (the highlighted order), the server checks it and says what it knows of it.
      call.tools.register('order_on_screen', async () => ({
        order_id: orders.querySelector('.shown')?.dataset.order ?? null,
      }));
    });
  }

  // Calls: keep the list current while the page is open (new calls, statuses, reports arriving). The list
  // is swapped in place rather than the page reloaded, so a call running in the widget is not cut off.
  const list = document.getElementById('calls-list');
  if (!list) return;
  refresh = async () => {
    if (document.hidden) return;
    try {
      const response = await fetch(location.href, { headers: { Accept: 'text/html' } });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), 'text/html');
      const fresh = page.getElementById('calls-list');
      const current = document.getElementById('calls-list');
      if (!fresh || !current || fresh.innerHTML === current.innerHTML) return;
      const open = new Set(
        [...current.querySelectorAll('[data-call-id] details[open]')].map(
          (d) => d.closest('[data-call-id]').dataset.callId,
        ),
      );
      for (const card of fresh.querySelectorAll('[data-call-id]')) {
        const details = card.querySelector('details');
        if (details && open.has(card.dataset.callId)) details.open = true;
      }
      current.replaceWith(fresh);
    } catch {
      // The server is restarting or gone: try again on the next tick.
    }
  };
  setInterval(refresh, 3000);
  if (rated) rated.onmessage = refresh;
  document.addEventListener('visibilitychange', refresh); // a tab coming back shows what changed meanwhile
})();
