// Settings tab: the account's declared settings as the console has them, each with its own Save behind a
// confirmation ("Apply change" / "Cancel"; Cancel puts the field back), since each change is drift from
// credits.yaml; values that cannot be saved are refused in place before any dialog. Then Reset Cycle Now.
import { declaredNotice, declaredTag, h, setText, when } from './dom.js';
import { cmp, format, isAmount } from './decimal.js';

const DRIFT =
  'It is declared in credits.yaml: after this change the next credits plan shows it as "changed outside ' +
  'credits.yaml" (drift), and credits apply sets it back unless the file is updated to match.';

/** The cadences offered, as the console names them, each with what it means. */
const CADENCES = [
  [
    'calendar-month',
    'Calendar month',
    'A cycle per calendar month, from midnight on the 1st in the time zone.',
  ],
  ['15d', '15 days', 'Back-to-back 15-day cycles, the first starting when the change is applied.'],
  ['1w', '1 week', 'Back-to-back 7-day cycles, the first starting when the change is applied.'],
  ['1d', '1 day', 'Back-to-back 24-hour cycles, the first starting when the change is applied.'],
  ['12h', '12 hours', 'Two cycles a day: for trials and tight budgets.'],
  ['6h', '6 hours', 'Four cycles a day: for trials and tight budgets.'],
  ['1h', '1 hour', 'A cycle an hour: for testing budgets and demos.'],
  ['15m', '15 minutes', 'A cycle every 15 minutes: for testing budgets and demos.'],
];

/** "2h" → "2 hours", for a cadence set in credits.yaml that the list does not name. */
function cadenceLabel(value) {
  const known = CADENCES.find(([v]) => v === value);
  if (known) return known[1];
  const m = /^(\d+)([hm])$/.exec(value);
  if (!m) return value;
  const unit = m[2] === 'h' ? 'hour' : 'minute';
  return `${m[1]} ${unit}${m[1] === '1' ? '' : 's'}`;
}

/** Every IANA zone this browser knows, with the current one and UTC always among them. */
function timeZones(current) {
  const zones = new Set(
    typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [],
  );
  zones.add('UTC');
  zones.add(current);
  return [...zones].sort();
}

/**
 * One setting: a label, a field, a line below it (current usage, the saved value, or why a value is
 * refused) and its own Save. `check(value)` returns an error text or ''; `confirm(value)` describes the
 * dialog; `patch(value)` is the PATCH /v1/settings body.
 */
function settingRow(ctx, { id, label, help, field, below, current, check, dialog, patch, done }) {
  const locked = ctx.state.managedByGit;
  field.id = `setting-${id}`;
  field.disabled = locked;
  const error = h('p', { class: 'error-text field-error', id: `error-${id}`, role: 'alert' });
  const note = h('p', { class: 'hint setting-below', id: `below-${id}` }, below);
  field.setAttribute('aria-describedby', `below-${id} help-${id} error-${id}`);
  const save = h(
    'button',
    { type: 'button', class: 'button primary', id: `save-${id}`, disabled: locked },
    'Save',
  );
  save.addEventListener('click', async () => {
    const value = field.value.trim();
    const problem = check(value);
    field.setAttribute('aria-invalid', String(Boolean(problem)));
    setText(error, problem);
    if (problem) return;
    if (value === current || (isAmount(value) && isAmount(current ?? '') && cmp(value, current) === 0)) {
      ctx.notify(
        'info',
        `${label} is already ${field.tagName === 'SELECT' ? field.selectedOptions[0].text : format(value)}.`,
      );
      return;
    }
    const ok = await ctx.confirm({ ...dialog(value), ok: 'Apply change' });
    if (!ok) {
      field.value = current ?? '';
      field.dispatchEvent(new Event('change'));
      return;
    }
    save.disabled = true;
    try {
      await ctx.api('PATCH', ctx.paths.settings(), patch(value));
      ctx.notify('ok', done(value), DRIFT);
    } catch (err) {
      ctx.fail(err, `Changing ${label.toLowerCase()} was refused`);
    }
    await ctx.rerender();
  });
  field.addEventListener('input', () => {
    field.removeAttribute('aria-invalid');
    setText(error, '');
  });
  return h('div', { class: 'setting', dataset: { setting: id } }, [
    h('div', { class: 'setting-label' }, [
      h('label', { for: field.id }, label),
      ' ',
      declaredTag(),
      h('p', { class: 'hint', id: `help-${id}` }, help),
    ]),
    h('div', { class: 'setting-field' }, [field, note, error]),
    h('div', { class: 'setting-save' }, save),
  ]);
}

const amountField = (current) =>
  h('input', {
    class: 'amount wide',
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    spellcheck: 'false',
    value: current ?? '',
  });

const amountProblem = (value) =>
  isAmount(value) ? '' : `“${value}” is not an amount: digits, at most 6 decimal places, not negative.`;

/** An amount setting: credits per cycle, the credit factor, signup credits. */
function amountRow(ctx, { id, key, label, help, current, below, warnBelow }) {
  return settingRow(ctx, {
    id,
    label,
    help,
    current,
    field: amountField(current),
    below,
    check: amountProblem,
    dialog: (value) => ({
      title: `Change ${label.toLowerCase()}?`,
      body: `From ${current === undefined ? 'unset' : format(current)} to ${format(value)}. ${DRIFT}`,
      warning:
        warnBelow && cmp(value, warnBelow) < 0
          ? `${format(value)} is below the ${format(warnBelow)} credits already used this cycle: the account is blocked until the next cycle.`
          : '',
    }),
    patch: (value) => ({ [key]: value }),
    done: (value) => `${label} changed to ${format(value)}.`,
  });
}

export async function render(ctx) {
  const ov = await ctx.api('GET', ctx.paths.overview());
  ctx.setAccount(ov.account);
  const c = ov.cycle;

  // --- cycle cadence: a select whose explanation follows the option chosen ------------------------------
  const cadenceOptions = CADENCES.some(([v]) => v === c.cadence)
    ? CADENCES
    : [...CADENCES, [c.cadence, cadenceLabel(c.cadence), 'Set in credits.yaml.']];
  const cadence = h(
    'select',
    null,
    cadenceOptions.map(([value, label, explain]) =>
      h('option', { value, title: explain, selected: value === c.cadence }, label),
    ),
  );
  const explain = () => cadenceOptions.find(([v]) => v === cadence.value)?.[2] ?? '';
  const cadenceRow = settingRow(ctx, {
    id: 'cadence',
    label: 'Cycle cadence',
    help: 'How long a cycle lasts. A change ends the current cycle now and starts a fresh one.',
    current: c.cadence,
    field: cadence,
    below: explain(),
    check: (value) => (cadenceOptions.some(([v]) => v === value) ? '' : 'Choose a cadence from the list.'),
    dialog: (value) => ({
      title: 'Change the cycle cadence?',
      body:
        `From ${cadenceLabel(c.cadence)} to ${cadenceLabel(value)}. Cycle #${c.number} ends now and a fresh ` +
        `cycle starts: usage, reservations and approved grants count from zero again (history is kept). ${DRIFT}`,
      warning: 'The current cycle ends now; this cannot be undone.',
    }),
    patch: (value) => ({ cadence: value }),
    done: (value) => `Cycle cadence changed to ${cadenceLabel(value)}; a fresh cycle started.`,
  });
  cadence.addEventListener('change', () => setText(cadenceRow.querySelector('.setting-below'), explain()));

  // --- time zone: chosen from the zones the browser knows -----------------------------------------------
  const zones = timeZones(c.timezone);
  const timezone = h(
    'select',
    null,
    zones.map((z) => h('option', { value: z, selected: z === c.timezone }, z.replaceAll('_', ' '))),
  );
  const timezoneRow = settingRow(ctx, {
    id: 'timezone',
    label: 'Time zone',
    help: 'Cycle boundaries are computed in it. A change ends the current cycle now and starts a fresh one.',
    current: c.timezone,
    field: timezone,
    below: `Cycle #${c.number}: ${when(c.start)} – ${when(c.end)} (shown in this browser's time zone).`,
    check: (value) => (zones.includes(value) ? '' : 'Choose a time zone from the list.'),
    dialog: (value) => ({
      title: 'Change the time zone?',
      body:
        `From ${c.timezone} to ${value}. Cycle #${c.number} ends now and a fresh cycle starts: usage, ` +
        `reservations and approved grants count from zero again (history is kept). ${DRIFT}`,
      warning: 'The current cycle ends now; this cannot be undone.',
    }),
    patch: (value) => ({ timezone: value }),
    done: (value) => `Time zone changed to ${value}; a fresh cycle started.`,
  });

  // --- reset ---------------------------------------------------------------------------------------------
  const reset = h('button', { type: 'button', class: 'button danger', id: 'reset-cycle' }, 'Reset Cycle Now');
  reset.addEventListener('click', async () => {
    const ok = await ctx.confirm({
      title: 'Reset the cycle now?',
      body:
        `Cycle #${c.number} (${when(c.start)} – ${when(c.end)}) ends now and a new cycle starts: usage, ` +
        'reservations and approved grants count from zero again for every member, group and the account.',
      warning: 'This cannot be undone.',
      ok: 'Reset cycle',
      danger: true,
    });
    if (!ok) return;
    reset.disabled = true;
    try {
      const cycle = await ctx.api('POST', ctx.paths.resetCycle(), {});
      ctx.notify('ok', `Cycle #${cycle.number} started.`, `It runs until ${when(cycle.end)}.`);
      await ctx.rerender();
    } catch (err) {
      reset.disabled = false;
      ctx.fail(err, 'Reset refused');
    }
  });

  const notice = declaredNotice(
    ctx.state.managedByGit,
    'these settings',
    'A change applied here is drift until the file says the same.',
  );

  return h('div', { class: 'tab-settings' }, [
    notice,
    h('section', { class: 'card settings' }, [
      h('h2', null, 'Credits'),
      amountRow(ctx, {
        id: 'credit-limit',
        key: 'creditLimit',
        label: 'Credits per cycle',
        help: 'The account’s credit limit: what all members together may use in one cycle.',
        current: ov.creditLimit,
        below: `Current usage: ${format(ov.used)} of ${format(ov.creditLimit)} credits (${ov.usagePercent}%) this cycle.`,
        warnBelow: ov.used,
      }),
      amountRow(ctx, {
        id: 'credit-factor',
        key: 'creditFactor',
        label: 'Internal credit units per $1 of cost',
        help: 'Converts a reported cost in dollars into credits; 0 turns tracking off (usage recorded, nothing charged).',
        current: ov.account.creditFactor,
        below: `Now ${format(ov.account.creditFactor)}: $1 of cost is ${format(ov.account.creditFactor)} credits.`,
      }),
      amountRow(ctx, {
        id: 'signup-credits',
        key: 'signupCredits',
        label: 'Credits per new user',
        help: 'One-time credits for each user who signs up; 0 turns them off.',
        current: ov.account.signupCredits,
        below: `Now ${format(ov.account.signupCredits)} credits for each new user.`,
      }),
    ]),
    h('section', { class: 'card settings' }, [h('h2', null, 'Cycle'), cadenceRow, timezoneRow]),
    h('section', { class: 'card danger-zone' }, [
      h('h2', null, 'Reset'),
      h(
        'p',
        null,
        'Reset Cycle Now ends the current cycle immediately. Runtime state, not declared in credits.yaml.',
      ),
      reset,
    ]),
  ]);
}
