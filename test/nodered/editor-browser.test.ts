/**
 * The technician's path through the real editor: Debian's Chromium (never a downloaded browser),
 * driven by playwright-core 1.64.1 (the release built for Chromium 156, the version Debian 12
 * ships), logs into the editor our supervised child serves, finds our four nodes in the palette,
 * drags a node onto the workspace and deploys it, and the admin API then holds that flow; our
 * nodes' dialog speaks English, and Chinese to a browser that asks for zh-CN.
 * A screenshot is taken every run; `VG_SCREENSHOT=update` writes it where docs/technician.md shows it.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { NodeRedSupervisor } from '../../agent/nodered/supervisor.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { EDITOR_USER, adminToken, testNodeRedConfig } from '../helpers/node-red.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const CHROMIUM = '/usr/bin/chromium';
const README_SHOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'node-red-editor.png');
const OUR_NODES = ['village in', 'village out', 'village alert', 'village status', 'village snapshot'];

function editor(dataDir: string) {
  const sup = new NodeRedSupervisor({
    config: testNodeRedConfig(),
    dataDir,
    gatewayId: 'gw-editor',
    logger: quietLogger(),
    // What the editor's pickers offer: the running config's devices and flow-writable outputs.
    flowWritable: new Set(['storehouse-io/relay1', 'storehouse-io/relay2']),
    devices: [
      { id: 'storehouse-io', tags: [] },
      { id: 'storehouse-door', tags: ['door'] },
    ],
    tagsOf: () => [],
    ports: {
      onEvent: (_l: (e: GatewayEvent) => void) => () => {},
      emit: () => {},
      write: async () => {},
      raiseAlert: async () => 'alert-1',
      status: () => ({ ok: true }),
    },
  });
  cleanup(() => sup.stop());
  return sup;
}

/** The few calls of the editor's own API (window.RED) the pickers' check uses. */
interface EditorApi {
  view: { importNodes(nodes: object[]): void };
  workspaces: { active(): string };
  nodes: { node(id: string): { _(key: string, options: { defaultValue: string }): string } };
  editor: { edit(node: object): void };
}

/** Logs into the editor at url and waits for its palette. */
async function logIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.fill('#node-dialog-login-username', EDITOR_USER.username);
  await page.fill('#node-dialog-login-password', EDITOR_USER.password);
  await page.click('#node-dialog-login-submit');
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="inject"]', { timeout: 30_000 });
}

/** A village out node added and its dialog opened through the editor's own API (a drag's drop point depends on the workspace's scroll). */
async function openVillageOut(page: Page, id: string): Promise<void> {
  await page.evaluate((nodeId) => {
    const RED = (globalThis as unknown as { RED: EditorApi }).RED;
    RED.view.importNodes([{ id: nodeId, type: 'village out', x: 500, y: 400, z: RED.workspaces.active() }]);
    RED.editor.edit(RED.nodes.node(nodeId));
  }, id);
}

async function flowTypes(url: string): Promise<string[]> {
  const token = await adminToken(url);
  const flows = await fetch(`${url}flows`, { headers: { authorization: `Bearer ${String(token)}` } });
  return ((await flows.json()) as { type: string }[]).map((n) => n.type);
}

describe('the Node-RED editor in a real browser', () => {
  it('logs in, shows our five nodes in the palette, and deploys a flow made by drag and drop', async () => {
    expect(existsSync(CHROMIUM), 'Debian chromium (the test preflight installs it)').toBe(true);
    const sup = editor(tempDir());
    sup.start();
    await waitUntil(() => sup.describe().state === 'running', 30_000, 'Node-RED ready');
    const url = sup.describe().url!;
    const before = await flowTypes(url);

    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // As root (CI) Chromium refuses to start with its sandbox.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    cleanup(() => browser.close());
    expect(browser.version()).toMatch(/^\d+\./);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await logIn(page, url);

    const palette = await page.$$eval('.red-ui-palette-node', (els) =>
      els.map((e) => e.getAttribute('data-palette-type')),
    );
    for (const type of OUR_NODES) expect(palette, `${type} in the palette`).toContain(type);

    await page.dragAndDrop('.red-ui-palette-node[data-palette-type="inject"]', '#red-ui-workspace-chart', {
      targetPosition: { x: 300, y: 200 },
    });
    await page.click('#red-ui-header-button-deploy');
    const injects = async () => (await flowTypes(url)).filter((t) => t === 'inject').length;
    const injectsBefore = before.filter((t) => t === 'inject').length;
    const deadline = Date.now() + 10_000;
    while ((await injects()) === injectsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await injects(), 'the deployed inject node in the runtime').toBe(injectsBefore + 1);

    // The pickers: a village out node's device and output offer the running config's ids.
    await openVillageOut(page, 'picker-out');
    const choices = (list: string) => page.$$eval(`#${list} option`, (els) => els.map((e) => e.getAttribute('value')));
    await page.locator('#node-input-device-choices option').first().waitFor({ state: 'attached' });
    expect(await choices('node-input-device-choices'), 'devices with outputs flows may drive').toEqual([
      'storehouse-io',
    ]);
    await page.fill('#node-input-device', 'storehouse-io');
    expect(await choices('node-input-output-choices')).toEqual(['relay1', 'relay2']);
    // The dialog's text comes from our English catalogue (flows/nodes/locales/en-US).
    expect(await page.locator('label[for="node-input-device"]').innerText()).toContain('Device');
    expect(await page.locator('.village-gw-pickers-note').innerText()).toBe(
      'Devices with flow-writable outputs in the running config: 1',
    );
    await page.click('#node-dialog-cancel');

    // A browser that asks for Chinese gets the same dialog from the zh-CN catalogue.
    const zh = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } })).newPage();
    await logIn(zh, url);
    await openVillageOut(zh, 'picker-zh');
    await zh.locator('.village-gw-pickers-note').waitFor({ state: 'attached' });
    expect(await zh.locator('label[for="node-input-device"]').innerText()).toContain('设备');
    expect(await zh.locator('label[for="node-input-durationMs"]').innerText()).toContain('脉冲毫秒');
    expect(await zh.locator('#node-input-action option[value="msg"]').innerText()).toBe('取自 msg.payload');
    expect(await zh.locator('.village-gw-pickers-note').innerText()).toBe(
      '正在运行的配置里带有流程可驱动输出的设备：1 个',
    );
    // A node's status text that is a catalogue key is looked up as the editor does it (node._, the node's namespace).
    const statusText = (key: string) =>
      zh.evaluate(
        (k) => (globalThis as unknown as { RED: EditorApi }).RED.nodes.node('picker-zh')._(k, { defaultValue: k }),
        key,
      );
    expect(await statusText('village-out.status.noDeviceOutput')).toBe('未设设备/输出');
    expect(await statusText('node-red-contrib-village/village-in:status.notConnected')).toBe('未连接');
    expect(await statusText('pulse 700 ms at 10:00:00')).toBe('pulse 700 ms at 10:00:00'); // a text with values stays
    await zh.context().close(); // (its dialog left open: a notification of the other page's deploy covers its buttons)

    // For the picture: the palette filtered to our nodes, one of them on the workspace.
    await page.locator('#red-ui-palette-search input').pressSequentially('village');
    await page.locator('.red-ui-palette-node[data-palette-type="village in"]').waitFor({ state: 'visible' });
    await page.dragAndDrop('.red-ui-palette-node[data-palette-type="village in"]', '#red-ui-workspace-chart', {
      targetPosition: { x: 300, y: 320 },
    });
    const shot = process.env.VG_SCREENSHOT === 'update' ? README_SHOT : join(tempDir(), 'editor.png');
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  });
});
