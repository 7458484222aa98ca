// Usage over the current cycle, per day (per hour for cycles of two days or less) and per group, as a
// stacked bar chart drawn in SVG by hand (no library: this file is the whole cost), with the same numbers
// as a table. GET /v1/usage/summary sums the ledger in SQL; the browser only draws the sums.
import { h, when } from './dom.js';
import { add, format } from './decimal.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 720;
const H = 220;
const PAD = { left: 56, right: 8, top: 10, bottom: 28 };
const SERIES = 6; // colours .series-0 … .series-5 in style.css, reused after six groups

const svg = (tag, attrs, ...children) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
};

/**
 * Every bucket of the cycle so far (the API's UTC days or hours, "YYYY-MM-DDTHH:MM:SSZ"), empty ones too, so
 * the bars keep their places in time; plus any bucket the API returned that the range missed.
 */
function cycleBuckets(cycle, bucket, items) {
  const stepMs = bucket === 'hour' ? 3_600_000 : 24 * 3_600_000;
  const start = new Date(cycle.start);
  if (bucket === 'hour') start.setUTCMinutes(0, 0, 0);
  else start.setUTCHours(0, 0, 0, 0);
  const end = Math.min(new Date(cycle.end).getTime(), Date.now());
  const all = new Set(items.map((i) => i.bucket));
  for (let t = start.getTime(); t < end && all.size < 800; t += stepMs) {
    all.add(new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  }
  return [...all].sort();
}

/** Usage per bucket and group, or a note when the API cannot tell. */
export async function usageChart(ctx, ov) {
  const c = ov.cycle;
  const short = new Date(c.end).getTime() - new Date(c.start).getTime() <= 2 * 24 * 3_600_000;
  const bucket = short ? 'hour' : 'day';
  const q = new URLSearchParams({ by: 'group', bucket, from: c.start, to: c.end });
  let data;
  try {
    data = await ctx.api('GET', `/v1/usage/summary?${q}`);
  } catch (err) {
    if (err.status === 404) {
      return h(
        'p',
        { class: 'hint', id: 'usage-chart-missing' },
        'Usage over time needs GET /v1/usage/summary, which this server’s API does not have.',
      );
    }
    throw err;
  }
  const groups = ov.groups.map((g) => ({ key: g.key, name: g.name }));
  for (const item of data.items) {
    if (!groups.some((g) => g.key === item.key)) groups.push({ key: item.key, name: item.key });
  }
  const buckets = cycleBuckets(c, bucket, data.items);
  const cell = new Map(data.items.map((i) => [`${i.bucket} ${i.key}`, i.credits]));
  const value = (b, g) => cell.get(`${b} ${g}`) ?? '0';
  const totals = buckets.map((b) => add(...groups.map((g) => value(b, g.key))));
  const label = (b) => (short ? when(b) : when(b, false));
  const title = `Usage per ${bucket} this cycle, by group (credits)`;

  if (!data.items.length) {
    return h('p', { class: 'hint', id: 'usage-chart-empty' }, `No usage recorded in cycle #${c.number} yet.`);
  }

  // Pixel geometry may use floats: it draws the exact sums, it never adds money.
  const max = Math.max(...totals.map(Number), 1);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / buckets.length;
  const barW = Math.max(2, Math.min(48, step * 0.7));
  const bars = [];
  buckets.forEach((b, i) => {
    let y = PAD.top + plotH;
    groups.forEach((g, gi) => {
      const v = Number(value(b, g.key));
      if (!v) return;
      const hgt = (v / max) * plotH;
      y -= hgt;
      bars.push(
        svg(
          'rect',
          {
            x: PAD.left + i * step + (step - barW) / 2,
            y,
            width: barW,
            height: hgt,
            class: `series-${gi % SERIES}`,
          },
          svg('title', {}, `${label(b)} · ${g.name}: ${format(value(b, g.key))} credits`),
        ),
      );
    });
  });
  const every = Math.ceil(buckets.length / 8);
  const xLabels = buckets
    .map((b, i) =>
      i % every === 0
        ? svg(
            'text',
            { x: PAD.left + i * step + step / 2, y: H - 8, class: 'axis', 'text-anchor': 'middle' },
            short ? new Date(b).getHours() + 'h' : new Date(b).getDate().toString(),
          )
        : null,
    )
    .filter(Boolean);
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'usage-chart', 'aria-hidden': 'true', focusable: 'false' },
    svg('line', {
      x1: PAD.left,
      x2: W - PAD.right,
      y1: PAD.top + plotH,
      y2: PAD.top + plotH,
      class: 'axis-line',
    }),
    svg(
      'text',
      { x: PAD.left - 6, y: PAD.top + 10, class: 'axis', 'text-anchor': 'end' },
      format(String(Math.round(max))),
    ),
    svg('text', { x: PAD.left - 6, y: PAD.top + plotH, class: 'axis', 'text-anchor': 'end' }, '0'),
    ...bars,
    ...xLabels,
  );
  const figure = h(
    'div',
    { role: 'img', 'aria-label': `${title}: ${format(add(...totals))} credits in all`, id: 'usage-chart' },
    chart,
  );
  const legend = h(
    'ul',
    { class: 'legend' },
    groups.map((g, gi) => h('li', null, [h('span', { class: `swatch series-${gi % SERIES}` }), g.name])),
  );
  const table = h('table', { class: 'table', id: 'usage-table' }, [
    h('caption', { class: 'visually-hidden' }, title),
    h(
      'thead',
      null,
      h('tr', null, [
        h('th', { scope: 'col' }, short ? 'Hour' : 'Day'),
        ...groups.map((g) => h('th', { scope: 'col', class: 'num' }, g.name)),
        h('th', { scope: 'col', class: 'num' }, 'Total'),
      ]),
    ),
    h(
      'tbody',
      null,
      buckets.map((b, i) =>
        h('tr', { dataset: { bucket: b } }, [
          h('th', { scope: 'row' }, label(b)),
          ...groups.map((g) => h('td', { class: 'num' }, format(value(b, g.key)))),
          h('td', { class: 'num' }, format(totals[i])),
        ]),
      ),
    ),
  ]);
  return h('div', { class: 'usage' }, [
    figure,
    legend,
    h('details', null, [
      h('summary', null, 'Show as a table'),
      h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': title }, table),
    ]),
  ]);
}
