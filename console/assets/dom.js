// h builds an element: h('a', {href: '#', onclick: fn, class: 'x'}, 'text', child, [more]).
export function h(tag, attrs, ...children) {
  const svg = ['svg', 'path', 'line', 'text', 'g', 'rect', 'circle', 'polyline', 'title'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && !svg) el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// replace puts children in place of el's.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function toast(message, kind = 'info') {
  const t = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  document.getElementById('toasts').append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

// ask shows a modal form and resolves with its values, or null if cancelled.
// fields: [{name, label, value, type, required, options, placeholder}]
export function ask(title, fields, confirm = 'OK', danger = false) {
  const dialog = document.getElementById('dialog');
  const form = document.getElementById('dialog-form');
  const inputs = fields.map((f) => {
    const id = `dlg-${f.name}`;
    const input = f.options
      ? h('select', { id, name: f.name }, f.options.map(([v, l]) => h('option', { value: v, selected: v === f.value }, l)))
      : f.type === 'textarea'
        ? h('textarea', { id, name: f.name, rows: 4, placeholder: f.placeholder }, f.value ?? '')
        : h('input', { id, name: f.name, type: f.type ?? 'text', value: f.value ?? '', required: f.required, placeholder: f.placeholder, autocomplete: 'off' });
    return h('label', { for: id }, h('span', {}, f.label), input);
  });
  replace(form,
    h('h3', {}, title),
    inputs,
    h('div', { class: 'actions' },
      h('button', { value: 'cancel', type: 'button', class: 'secondary', onclick: () => dialog.close('cancel') }, 'Cancel'),
      h('button', { value: 'ok', class: danger ? 'danger' : 'primary', id: 'dialog-ok' }, confirm)));
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'ok') return resolve(null);
      resolve(Object.fromEntries(new FormData(form).entries()));
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    form.querySelector('input,select,textarea')?.focus();
  });
}

export function ago(ms) {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
