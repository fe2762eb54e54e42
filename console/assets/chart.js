import { h } from './dom.js';

const palette = ['#2563eb', '#db2777', '#16a34a', '#ea580c', '#7c3aed', '#0891b2', '#ca8a04', '#4b5563'];

// lineChart draws series [{name, points: [[unixSeconds, value]]}] over the
// last hour as an inline SVG, with a legend.
export function lineChart({ title, series, unit = '', width = 560, height = 200 }) {
  const pad = { l: 44, r: 12, t: 12, b: 24 };
  const now = Date.now() / 1000;
  const x0 = now - 3600;
  const max = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const yMax = 4 * niceCeil((max * 1.1) / 4); // four gridlines at round values
  const X = (t) => pad.l + ((t - x0) / 3600) * (width - pad.l - pad.r);
  const Y = (v) => height - pad.b - (v / yMax) * (height - pad.t - pad.b);
  const grid = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    grid.push(h('line', { x1: pad.l, x2: width - pad.r, y1: Y(v), y2: Y(v), class: 'grid' }));
    grid.push(h('text', { x: pad.l - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(v)));
  }
  for (let m = 0; m <= 60; m += 15) {
    const t = x0 + m * 60;
    const d = new Date(t * 1000);
    grid.push(h('line', { x1: X(t), x2: X(t), y1: pad.t, y2: height - pad.b, class: 'grid' }));
    grid.push(h('text', { x: X(t), y: height - 6, 'text-anchor': 'middle', class: 'tick' },
      m === 60 ? 'now' : `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`));
  }
  const lines = series.map((s, i) => {
    const pts = s.points.filter((p) => p[0] >= x0).map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ');
    return h('polyline', { points: pts, fill: 'none', stroke: palette[i % palette.length], 'stroke-width': 2, 'stroke-linejoin': 'round' },
      h('title', {}, s.name));
  });
  const svg = h('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title }, grid, lines);
  const legend = h('div', { class: 'legend' }, series.map((s, i) => {
    const last = s.points.length ? s.points[s.points.length - 1][1] : 0;
    return h('span', {}, h('i', { class: `swatch c${i % palette.length}` }), `${s.name}: ${fmt(last)}${unit}`);
  }));
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, title), svg, legend);
}

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v) {
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
