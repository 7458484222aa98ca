// Settings tab: the account's declared settings (credit limit, cadence and time zone, credit factor, signup
// credits), each change confirmed first because it is drift from credits.yaml, and Reset Cycle Now.
import { declaredNotice, declaredTag, h, when } from './dom.js';
import { cmp, format, isAmount } from './decimal.js';

const DRIFT =
  'It is declared in credits.yaml: after this change the next credits plan shows it as "changed outside ' +
  'credits.yaml" (drift), and credits apply sets it back unless the file is updated to match.';

/** PATCH /v1/settings behind a confirmed button; says how it went, then shows the tab again either way. */
async function patchSettings(ctx, button, patch, changed, refused) {
  button.disabled = true;
  try {
    await ctx.api('PATCH', ctx.paths.settings(), patch);
    ctx.notify('ok', changed, DRIFT);
  } catch (err) {
    ctx.fail(err, refused);
  }
  await ctx.rerender();
}

/** One declared numeric setting: its value, an input and "Apply change" behind a confirmation. */
function settingRow(ctx, { id, field, label, help, current, used }) {
  const input = h('input', {
    id: `setting-${id}`,
    class: 'amount',
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    placeholder: current ?? 'new value',
    value: current ?? '',
    disabled: ctx.state.managedByGit,
  });
  const apply = h(
    'button',
    { type: 'button', class: 'button', id: `apply-${id}`, disabled: ctx.state.managedByGit },
    'Apply change',
  );
  apply.addEventListener('click', async () => {
    const value = input.value.trim();
    if (!isAmount(value)) {
      input.setAttribute('aria-invalid', 'true');
      ctx.notify('error', `${label} not changed`, `"${value}" is not an amount (up to 6 decimal places).`);
      return;
    }
    input.setAttribute('aria-invalid', 'false');
    if (current !== undefined && cmp(value, current) === 0) {
      ctx.notify('info', `${label} is already ${format(value)}.`);
      return;
    }
    const below = used !== undefined && cmp(value, used) < 0;
    const ok = await ctx.confirm({
      title: `Change the ${label.toLowerCase()}?`,
      body: `${current === undefined ? 'Set it' : `From ${format(current)}`} to ${format(value)}. ${DRIFT}`,
      warning: below
        ? `${format(value)} is below the ${format(used)} credits already used this cycle: the account is blocked until the next cycle.`
        : '',
      ok: 'Apply change',
    });
    if (!ok) return;
    await patchSettings(
      ctx,
      apply,
      { [field]: value },
      `${label} changed to ${format(value)}.`,
      `Changing the ${label.toLowerCase()} was refused`,
    );
  });
  return h('div', { class: 'setting', dataset: { setting: id } }, [
    h('div', { class: 'setting-label' }, [h('label', { for: `setting-${id}` }, label), ' ', declaredTag()]),
    h('div', { class: 'setting-value' }, [
      h(
        'div',
        { class: 'current' },
        current === undefined ? 'Not reported by the API: see credits.yaml' : format(current),
      ),
      h('div', { class: 'hint' }, help),
    ]),
    h('div', { class: 'setting-edit' }, [input, apply]),
  ]);
}

const CADENCES = ['calendar-month', '15d', '1w', '1d', '12h', '1h'];

/** Cadence and time zone: one "Apply change" for both, since either one starts a fresh cycle now. */
function cycleRow(ctx, c) {
  const locked = ctx.state.managedByGit;
  const cadence = h('input', {
    id: 'setting-cadence',
    type: 'text',
    list: 'cadence-options',
    autocomplete: 'off',
    value: c.cadence,
    'aria-label': 'Cadence',
    disabled: locked,
  });
  const timezone = h('input', {
    id: 'setting-timezone',
    type: 'text',
    autocomplete: 'off',
    value: c.timezone,
    'aria-label': 'Time zone',
    disabled: locked,
  });
  const apply = h(
    'button',
    { type: 'button', class: 'button', id: 'apply-cadence', disabled: locked },
    'Apply change',
  );
  apply.addEventListener('click', async () => {
    const patch = {};
    if (cadence.value.trim() !== c.cadence) patch.cadence = cadence.value.trim();
    if (timezone.value.trim() !== c.timezone) patch.timezone = timezone.value.trim();
    const said = `${patch.cadence ?? c.cadence} · ${patch.timezone ?? c.timezone}`;
    if (!Object.keys(patch).length) {
      ctx.notify('info', `The cycle is already ${said}.`);
      return;
    }
    const ok = await ctx.confirm({
      title: 'Change the cycle cadence?',
      body:
        `From ${c.cadence} · ${c.timezone} to ${said}. Cycle #${c.number} ends now and a fresh cycle starts: ` +
        `usage, reservations and approved grants count from zero again (history is kept). ${DRIFT}`,
      warning: 'The current cycle ends now; this cannot be undone.',
      ok: 'Apply change',
    });
    if (!ok) return;
    await patchSettings(
      ctx,
      apply,
      patch,
      `Cycle changed to ${said}; a fresh cycle started.`,
      'Changing the cycle was refused',
    );
  });
  return h('div', { class: 'setting', dataset: { setting: 'cadence' } }, [
    h('div', { class: 'setting-label' }, [
      h('label', { for: 'setting-cadence' }, 'Cycle cadence'),
      ' ',
      declaredTag(),
    ]),
    h('div', { class: 'setting-value' }, [
      h('div', { class: 'current', id: 'cadence' }, `${c.cadence} · ${c.timezone}`),
      h(
        'div',
        { class: 'hint' },
        `Cycle #${c.number}: ${when(c.start)} – ${when(c.end)}. calendar-month, 15d, 1w, 1d, or <N>h / <N>m; ` +
          'an IANA time zone. A change starts a fresh cycle now.',
      ),
    ]),
    h('div', { class: 'setting-edit cycle-edit' }, [
      cadence,
      h('datalist', { id: 'cadence-options' }, ...CADENCES.map((v) => h('option', { value: v }))),
      timezone,
      apply,
    ]),
  ]);
}

export async function render(ctx) {
  const ov = await ctx.api('GET', ctx.paths.overview());
  ctx.setAccount(ov.account);
  const c = ov.cycle;

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
      h('h2', null, 'Account'),
      settingRow(ctx, {
        id: 'credit-limit',
        field: 'creditLimit',
        label: 'Credit limit',
        help: 'Credits per cycle for the whole account.',
        current: ov.creditLimit,
        used: ov.used,
      }),
      cycleRow(ctx, c),
      settingRow(ctx, {
        id: 'credit-factor',
        field: 'creditFactor',
        label: 'Credit factor',
        help: 'Credits per $1 of cost; 0 turns tracking off (usage recorded, nothing charged).',
        current: ov.account.creditFactor,
      }),
      settingRow(ctx, {
        id: 'signup-credits',
        field: 'signupCredits',
        label: 'Signup credits',
        help: 'One-time credits for each new user; 0 turns them off.',
        current: ov.account.signupCredits,
      }),
    ]),
    h('section', { class: 'card danger-zone' }, [
      h('h2', null, 'Cycle'),
      h('p', null, [
        'Reset Cycle Now ends the current cycle immediately. Runtime state, not declared in credits.yaml. ',
      ]),
      reset,
    ]),
  ]);
}
