import {
  Chart, BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend,
} from 'chart.js';
import { h } from './dom.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

const ink = '#1f3a5f';
const accent = '#2a7de1';
const best = '#1b9e55';

// Whiskers for intervals (a dataset's `intervals`: [low, high] per bar): Chart.js has no error bars of its own.
const intervals = {
  id: 'intervals',
  afterDatasetsDraw(chart) {
    const { ctx, scales } = chart;
    chart.data.datasets.forEach((dataset, index) => {
      if (!dataset.intervals) return;
      const meta = chart.getDatasetMeta(index);
      ctx.save();
      ctx.strokeStyle = ink;
      ctx.lineWidth = 1.5;
      meta.data.forEach((bar, i) => {
        const interval = dataset.intervals[i];
        if (!interval) return;
        const [low, high] = interval.map(v => scales.y.getPixelForValue(v));
        ctx.beginPath();
        ctx.moveTo(bar.x, low); ctx.lineTo(bar.x, high);
        ctx.moveTo(bar.x - 6, low); ctx.lineTo(bar.x + 6, low);
        ctx.moveTo(bar.x - 6, high); ctx.lineTo(bar.x + 6, high);
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};

/**
 * A chart in a box of fixed height (no layout shift when it draws), with a text alternative for screen readers.
 * Animations are off: the numbers are what matters, and screenshots show the final state.
 */
function chart(label, height, config) {
  const canvas = h('canvas', { role: 'img', 'aria-label': label });
  const box = h('div', { class: 'chart', style: null }, canvas);
  box.style.height = `${height}px`;
  config.options = {
    animation: false, responsive: true, maintainAspectRatio: false,
    ...config.options,
    plugins: { legend: { display: false }, ...config.options?.plugins },
  };
  config.plugins = [intervals];
  // Drawn once the box is in the document, so Chart.js measures its real width.
  requestAnimationFrame(() => new Chart(canvas, config));
  return box;
}

export function histogram(column, bins) {
  return chart(`Histogram of ${column}`, 56, {
    type: 'bar',
    data: {
      labels: bins.map(b => `${b.lower.toPrecision(3)} – ${b.upper.toPrecision(3)}`),
      datasets: [{ data: bins.map(b => b.count), backgroundColor: accent, barPercentage: 1, categoryPercentage: 1 }],
    },
    options: { scales: { x: { display: false }, y: { display: false, beginAtZero: true } }, plugins: { tooltip: { enabled: true } } },
  });
}

export function leaderboard(metric, candidates, bestId) {
  return chart(`Cross-validated ${metric} of each candidate, mean with one standard deviation`, 240, {
    type: 'bar',
    data: {
      labels: candidates.map(c => c.candidateId),
      datasets: [{
        label: metric,
        data: candidates.map(c => c.metrics?.[metric]?.mean ?? null),
        intervals: candidates.map(c => c.metrics?.[metric] ? [c.metrics[metric].mean - c.metrics[metric].std, c.metrics[metric].mean + c.metrics[metric].std] : null),
        backgroundColor: candidates.map(c => c.candidateId === bestId ? best : accent),
      }],
    },
    options: { scales: { y: { title: { display: true, text: metric } } } },
  });
}

export function shares(members, intervalsPerMember) {
  return chart('Contribution share of each member in percent, with 95 % intervals where sampled', 240, {
    type: 'bar',
    data: {
      labels: members.map(m => m.member),
      datasets: [{ label: 'share %', data: members.map(m => m.share), intervals: intervalsPerMember, backgroundColor: accent }],
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'share %' } } } },
  });
}

export function rounds(metric, points) {
  return chart(`${metric} after each federated round`, 240, {
    type: 'line',
    data: {
      labels: points.map(p => p.round),
      datasets: [{ label: metric, data: points.map(p => p.metric), borderColor: accent, backgroundColor: accent, pointRadius: 2 }],
    },
    options: { scales: { x: { title: { display: true, text: 'round' } }, y: { title: { display: true, text: metric } } } },
  });
}
