/**
 * The Temporal Web UI (the one `temporal server start-dev` serves, UI 2.54) driven like an operator
 * drives it: the Codec Server settings, the Start Workflow form, a run's page, its User Metadata tab
 * and the Send an Update / Send a Signal forms. Selectors are the UI's own test ids and accessible
 * names, so a UI upgrade that moves things fails here with the name of what went missing.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';

/** What the Start Workflow form takes. */
export interface StartWorkflowForm {
  workflowId: string;
  taskQueue: string;
  workflowType: string;
  /** The one argument, typed into the Data editor as JSON. */
  input: unknown;
}

/** A run's status as the UI spells it in its header badge. */
export type UiExecutionStatus = 'Running' | 'Completed' | 'Failed' | 'Canceled' | 'Terminated' | 'TimedOut' | 'ContinuedAsNew';

/** One Temporal Web UI page, opened on a namespace. */
export class TemporalWebUi {
  constructor(
    readonly page: Page,
    /** The UI's base URL, e.g. http://127.0.0.1:8233. */
    readonly baseUrl: string,
    /** Where {@link screenshot} writes. */
    readonly artifactsDir: string,
    readonly namespace = 'default',
  ) {
    mkdirSync(artifactsDir, { recursive: true });
  }

  private url(suffix: string): string {
    return `${this.baseUrl}/namespaces/${encodeURIComponent(this.namespace)}${suffix}`;
  }

  /** The page's own (visible) copy of an element: the UI renders some controls twice, once per layout. */
  private visible(locator: Locator): Locator {
    return locator.filter({ visible: true });
  }

  /**
   * Logs this browser in at kubeha's codec server (`/login`): the server answers with a session cookie
   * for its own origin. Returns the page's answer.
   */
  async logInToCodecServer(codecUrl: string, token: string): Promise<string> {
    await this.page.goto(`${codecUrl}/login`);
    await this.page.locator('input[name="token"]').fill(token);
    const answered = this.page.waitForResponse((r) => r.url() === `${codecUrl}/login` && r.request().method() === 'POST');
    await this.page.getByRole('button', { name: 'Log in' }).click();
    await answered;
    await this.page.waitForLoadState();
    return this.page.locator('body').innerText();
  }

  /**
   * Opens the UI's Codec Server settings and sets a browser endpoint with "Include cross-origin
   * credentials" on. The dev server's cluster-level codec setting cannot include credentials (start-dev
   * has no flag for it), and without them the browser's `fetch` leaves the codec server's login cookie out.
   */
  async useCodecServerWithCredentials(codecUrl: string): Promise<void> {
    await this.page.goto(this.url('/workflows'));
    await this.visible(this.page.locator('[data-testid^="data-encoder-status"]')).first().click();
    const dialog = this.page.locator('#data-encoder-settings');
    await dialog.getByTestId('use-local-endpoint-input').check({ force: true });
    await dialog.locator('textarea').fill(codecUrl);
    await dialog.getByTestId('data-encoder-include-credentials').click();
    if (!(await dialog.locator('#pass-access-credentials').isChecked())) throw new Error('the "Include cross-origin credentials" switch did not turn on');
    await dialog.getByTestId('confirm-modal-button').click();
    await dialog.waitFor({ state: 'hidden' });
  }

  /** Opens the Start Workflow form and fills it; {@link submitStartWorkflow} sends it. */
  async fillStartWorkflow(form: StartWorkflowForm): Promise<void> {
    await this.page.goto(this.url('/workflows/start-workflow'));
    await this.page.getByTestId('workflowId').fill(form.workflowId);
    await this.page.getByTestId('taskQueue').fill(form.taskQueue);
    await this.page.getByTestId('workflowType').fill(form.workflowType);
    await this.typeJson(this.page.getByRole('textbox', { name: 'Data' }), form.input);
  }

  /**
   * Presses Start Workflow and returns the UI's answer (a toast such as "Workflow started successfully";
   * the form stays open, emptied, for the next run).
   */
  async submitStartWorkflow(): Promise<string> {
    await this.page.getByTestId('start-workflow-button').click();
    const toast = this.page
      .getByText(/Workflow started successfully|error|failed|already/i)
      .filter({ visible: true })
      .first();
    await toast.waitFor({ timeout: 30_000 });
    return toast.innerText();
  }

  /**
   * The text a code editor shows (CodeMirror renders one element per line, and only the lines near the
   * viewport: a long document may come back cut at its end).
   */
  async editorText(name: string, within: Locator = this.page.locator('body')): Promise<string> {
    return (await within.getByRole('textbox', { name }).locator('.cm-line').allInnerTexts()).join('\n');
  }

  /** Replaces what one of the UI's code editors holds with a JSON value, inserted as a paste would. */
  private async typeJson(editor: Locator, value: unknown): Promise<void> {
    await editor.click();
    await this.page.keyboard.press('ControlOrMeta+A');
    await this.page.keyboard.press('Delete');
    await this.page.keyboard.insertText(JSON.stringify(value, null, 2));
  }

  /** Opens a run's page (its latest run). */
  async openRun(workflowId: string): Promise<void> {
    await this.page.goto(this.url(`/workflows/${encodeURIComponent(workflowId)}`));
    await this.page.getByTestId('execution-status').waitFor();
  }

  /** The status badge of the open run, as written in the page (the badge shows it in capitals through CSS). */
  async executionStatus(): Promise<string> {
    return ((await this.page.getByTestId('execution-status').textContent()) ?? '').trim();
  }

  /**
   * Waits until the open run's badge shows `status`, reloading the page between looks (the UI refreshes
   * on its own too; a reload also recovers from a dropped long poll). `onWait` runs on each look, e.g. to
   * fail early with the run's progress.
   */
  async waitForStatus(status: UiExecutionStatus, timeoutMs: number, onWait?: (seen: string) => Promise<void>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = '';
    for (let look = 0; ; look++) {
      seen = await this.executionStatus().catch(() => '');
      if (seen.toLowerCase() === status.toLowerCase()) return;
      if (Date.now() > deadline) throw new Error(`the run's page shows "${seen}", not "${status}", after ${Math.round(timeoutMs / 1000)} s`);
      await onWait?.(seen);
      await this.page.waitForTimeout(2_000);
      if (look % 5 === 4) await this.page.reload();
    }
  }

  /** The open run's Input panel, as the page shows it (decoded when the codec server let it). */
  async inputText(): Promise<string> {
    const input = this.page.getByTestId('input-and-result').getByRole('textbox', { name: 'Input' });
    await input.waitFor();
    return input.innerText();
  }

  /** Waits until the Input panel shows `pattern` (decoding is asynchronous); returns its text. */
  async waitForInput(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    while (Date.now() < deadline) {
      text = await this.inputText();
      if (pattern.test(text)) return text;
      await this.page.waitForTimeout(500);
    }
    return text;
  }

  /**
   * The open run's current details (`setCurrentDetails`) from the User Metadata tab. The UI renders
   * the markdown in a sandboxed frame of its own (`/render`), so the text is read from that frame.
   */
  async currentDetails(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    await this.visible(this.page.getByTestId('user-metadata-tab')).click();
    await this.page.getByText('Current Details').first().waitFor();
    const deadline = Date.now() + timeoutMs;
    let text = '';
    while (Date.now() < deadline) {
      const frame = this.page.frames().find((f) => new URL(f.url(), this.baseUrl).pathname === '/render');
      text = frame
        ? await frame
            .locator('body')
            .innerText()
            .catch(() => '')
        : '';
      if (pattern.test(text)) return text;
      await this.page.waitForTimeout(500);
    }
    return text;
  }

  /** Opens More Actions and one of its forms. */
  private async openAction(testId: 'update-button' | 'signal-button', title: string): Promise<Locator> {
    await this.visible(this.page.getByRole('button', { name: 'More Actions' })).click();
    await this.visible(this.page.getByTestId(testId)).click();
    const dialog = this.page.locator('dialog[open]').filter({ has: this.page.getByRole('heading', { name: title }) });
    await dialog.waitFor();
    return dialog;
  }

  /**
   * Sends an update through Send an Update: picks the handler the run advertises, types the argument.
   * UI 2.54 sends nothing until the optional Update ID is set, so the form's Random UUID button fills it.
   */
  async openUpdate(name: string, argument: unknown): Promise<Locator> {
    const dialog = await this.openAction('update-button', 'Send an Update');
    await dialog.getByTestId('update-select-button').click();
    await dialog.getByRole('option', { name, exact: true }).click();
    await dialog.getByRole('button', { name: 'Random UUID' }).click();
    await this.typeJson(dialog.getByRole('textbox', { name: 'Data' }), argument);
    return dialog;
  }

  /** Presses Submit on an open action form and waits until it closes. */
  async submit(dialog: Locator): Promise<void> {
    await dialog.getByTestId('confirm-modal-button').click();
    await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
  }

  /** The text of the whole page (frames excluded). */
  async text(): Promise<string> {
    return this.page.locator('body').innerText();
  }

  /** Saves a full-page screenshot as `<artifactsDir>/<name>.png`; returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.join(this.artifactsDir, `${name}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    return file;
  }
}
