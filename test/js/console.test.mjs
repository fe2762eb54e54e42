// The operator console in a real browser: headless Chromium (Debian's
// chromium) driven by playwright-core. Run by the Go test
// TestConsoleInBrowser (cmd/parley), which starts a server, makes a room
// with the AWS CLI, a second tenant and a signed-in Chime user, and sets
// the variables read below. Screenshots of the main pages go to
// $PARLEY_SCREENSHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';
import { ChatRoom, SendMessageRequest } from 'amazon-ivs-chat-messaging';
import { IvschatClient, CreateChatTokenCommand, ListRoomsCommand } from '@aws-sdk/client-ivschat';

globalThis.WebSocket ??= WebSocket;

const env = (k) => { assert.ok(process.env[k], `${k} must be set`); return process.env[k]; };
const endpoint = env('PARLEY_ENDPOINT');
const roomArn = env('ROOM_ARN');
const keyId = env('AWS_ACCESS_KEY_ID');
const shots = env('PARLEY_SCREENSHOTS');
const ivs = new IvschatClient({
  endpoint, region: env('AWS_REGION'), maxAttempts: 1,
  credentials: { accessKeyId: keyId, secretAccessKey: env('AWS_SECRET_ACCESS_KEY') },
});

const within = (ms, what, promise) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)),
]);
const once = (room, event) => new Promise((resolve) => {
  const off = room.addListener(event, (...args) => { off(); resolve(args.length > 1 ? args : args[0]); });
});

// connect opens an official messaging client in the room as userId.
async function connect(userId, capabilities = []) {
  const room = new ChatRoom({
    regionOrUrl: endpoint.replace(/^http/, 'ws'),
    tokenProvider: async () => {
      const out = await ivs.send(new CreateChatTokenCommand({ roomIdentifier: roomArn, userId, capabilities, attributes: { displayName: userId } }));
      return { token: out.token, sessionExpirationTime: out.sessionExpirationTime, tokenExpirationTime: out.tokenExpirationTime };
    },
  });
  const connected = once(room, 'connect');
  room.connect();
  await within(5000, `${userId} to connect`, connected);
  return room;
}

let browser;
let page;
let context;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: env('PARLEY_CHROMIUM'), args: ['--no-sandbox'] });
  context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
});

after(async () => { await browser?.close(); });

const shot = (name, p = page) => p.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

async function signIn(p, id, secret) {
  await p.goto(`${endpoint}/console/`);
  await p.waitForSelector('#signin');
  await p.fill('[name=accessKeyId]', id);
  await p.fill('[name=secretAccessKey]', secret);
  await p.click('#signin button[type=submit]');
  await p.waitForSelector('#rooms');
}

test('sign in, and the secret stays out of the browser', async () => {
  await page.goto(`${endpoint}/console/`);
  await page.waitForSelector('#signin');
  assert.equal(await page.inputValue('[name=region]'), env('AWS_REGION'));
  await shot('01-signin');
  // A wrong secret is refused.
  await page.fill('[name=accessKeyId]', keyId);
  await page.fill('[name=secretAccessKey]', 'wrong');
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#signin-error:has-text("wrong")');
  await signIn(page, keyId, env('AWS_SECRET_ACCESS_KEY'));
  const cookies = await context.cookies();
  const c = cookies.find((x) => x.name === 'parley_console');
  assert.ok(c, 'a session cookie');
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, 'Strict');
  assert.ok(!c.value.includes(env('AWS_SECRET_ACCESS_KEY')));
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  assert.ok(!stored.includes(env('AWS_SECRET_ACCESS_KEY')), 'the secret is in the browser storage');
  assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is readable by scripts');
});

test('a room created with the AWS CLI is listed', async () => {
  const row = page.locator('#rooms tr', { hasText: 'cli-lobby' });
  await row.waitFor();
  assert.match(await row.innerText(), /event=launch/);
});

let viewer;
let chatter;

test('an official messaging client appears connected, live', async () => {
  viewer = await connect('viewer-42');
  chatter = await connect('chatter', ['SEND_MESSAGE']);
  const id = roomArn.split('/').pop();
  await page.waitForFunction((id) => document.querySelector(`#rooms tr[data-room="${id}"] .conns`)?.textContent === '2', id, { timeout: 10000 });
  await shot('02-rooms');
  await page.click('#rooms a:has-text("cli-lobby")');
  await page.waitForSelector('#users tr[data-user="viewer-42"]', { timeout: 10000 });
  await page.waitForFunction(() => document.querySelector('#conn-total')?.textContent === '2');
  // The live tail shows what the room says.
  await chatter.sendMessage(new SendMessageRequest('first!'));
  await page.waitForSelector('#tail li.msg:has-text("first!")', { timeout: 10000 });
});

test('Disconnect from the page: the client gets serverDisconnect, the audit trail shows the operator', async () => {
  const gone = once(viewer, 'disconnect');
  let reconnecting = false;
  viewer.addListener('connecting', () => { reconnecting = true; });
  await page.click('#users tr[data-user="viewer-42"] button[data-action=disconnect]');
  await page.fill('#dlg-reason', 'spoilers');
  await shot('03-disconnect-dialog');
  await page.click('#dialog-ok');
  assert.equal(await within(10000, 'the client to be disconnected', gone), 'serverDisconnect');
  await page.waitForSelector('#users tr[data-user="viewer-42"]', { state: 'detached', timeout: 10000 });
  await page.waitForSelector('#tail li.cmd:has-text("DisconnectUser")', { timeout: 10000 });
  await shot('04-room');
  assert.equal(reconnecting, false, 'the client reconnected');

  await page.click('#nav a[data-page=audit]');
  const row = page.locator('#audit tr[data-action=DisconnectUser]').first();
  await row.waitFor({ timeout: 10000 });
  const text = await row.innerText();
  assert.match(text, new RegExp(keyId));
  assert.match(text, /viewer-42/);
  assert.ok(text.includes(roomArn));
  // Filtering by action keeps only those records.
  await page.selectOption('#audit-action', 'DisconnectUser');
  await page.waitForFunction(() => [...document.querySelectorAll('#audit tr')].every((tr) => tr.dataset.action === 'DisconnectUser'));
  await shot('05-audit');
});

test('suspending a Chime user signs the live device out', async () => {
  const device = new WebSocket(`${endpoint.replace(/^http/, 'ws')}/parley/v1/device`, env('DEVICE_TOKEN'));
  const frames = [];
  device.on('message', (d) => frames.push(JSON.parse(d)));
  const closed = new Promise((resolve) => device.on('close', (code) => resolve(code)));
  await within(5000, 'the device to connect', new Promise((resolve, reject) => { device.on('open', resolve); device.on('error', reject); }));
  const user = env('CHIME_USER');
  await page.goto(`${endpoint}/console/#/chime/${env('CHIME_ACCOUNT')}`);
  await page.waitForFunction((u) => document.querySelector(`#chime-users tr[data-user="${u}"] .devices`)?.textContent === '1', user, { timeout: 10000 });
  await shot('06-chime');
  await page.click(`#chime-users tr[data-user="${user}"] button[data-action=suspend]`);
  await page.click('#dialog-ok');
  assert.equal(await within(10000, 'the device to be closed', closed), 1000);
  const out = frames.find((f) => f.EventName === 'parley:SIGNED_OUT');
  assert.ok(out, `no SIGNED_OUT among ${JSON.stringify(frames)}`);
  assert.equal(out.Attributes.Reason, 'suspended');
  await page.waitForSelector(`#chime-users tr[data-user="${user}"] [data-status=Suspended]`, { timeout: 10000 });
  await page.waitForFunction((u) => document.querySelector(`#chime-users tr[data-user="${u}"] .devices`)?.textContent === '0', user, { timeout: 10000 });
});

test('bans: create from the page, listed', async () => {
  await page.click('#nav a[data-page=bans]');
  await page.click('#create-ban');
  await page.fill('#dlg-userId', 'troll');
  await page.selectOption('#dlg-room', roomArn);
  await page.fill('#dlg-reason', 'spamming links');
  await page.fill('#dlg-minutes', '60');
  await page.click('#dialog-ok');
  await page.waitForSelector('#bans tr:has-text("troll")', { timeout: 10000 });
  await shot('07-bans');
});

test('the cluster page shows this node, its heartbeat and charts', async () => {
  await page.click('#nav a[data-page=cluster]');
  await page.waitForSelector('#nodes tr[data-node] .badge.ok', { timeout: 10000 });
  await page.waitForSelector('svg.chart polyline', { state: 'attached' });
  await shot('08-cluster');
  chatter.disconnect();
});

test("a second tenant sees none of the first tenant's rooms", async () => {
  const ctx2 = await browser.newContext({ viewport: { width: 1360, height: 700 } });
  const p2 = await ctx2.newPage();
  await signIn(p2, env('OTHER_KEY_ID'), env('OTHER_SECRET'));
  await p2.waitForSelector('#rooms tbody tr[data-room]', { timeout: 10000 }); // its own room
  const text = await p2.innerText('#rooms');
  assert.ok(!text.includes('cli-lobby') && !text.includes(roomArn.split('/').pop()), `the other tenant sees ${text}`);
  // Nor by asking for it by name.
  const got = await p2.evaluate(async (arn) => {
    const h = { 'X-Parley-Console': '1', 'Content-Type': 'application/json' };
    const room = await fetch('/console/api/ivschat/GetRoom', { method: 'POST', headers: h, body: JSON.stringify({ identifier: arn }) });
    const live = await fetch(`/console/api/live?room=${encodeURIComponent(arn)}`);
    const audit = await (await fetch('/console/api/audit')).json();
    return { room: room.status, type: room.headers.get('x-amzn-errortype'), live: live.status, audit: audit.records.length };
  }, roomArn);
  assert.deepEqual(got, { room: 404, type: 'ResourceNotFoundException', live: 404, audit: 0 });
  await shot('09-other-tenant', p2);
  await ctx2.close();
});

test('a cross-site POST is refused', async () => {
  const before = (await ivs.send(new ListRoomsCommand({}))).rooms.length;
  // From another site's page in the same browser: a form posting JSON-ish text.
  const evil = await context.newPage();
  await evil.route('http://evil.example/**', (route) => route.fulfill({
    contentType: 'text/html',
    body: `<form id=f method=POST enctype=text/plain action="${endpoint}/console/api/ivschat/CreateRoom"><input name='{"name":"csrf","x":"' value='"}'></form>`,
  }));
  await evil.goto('http://evil.example/');
  const [res] = await Promise.all([evil.waitForResponse((r) => r.url().includes('/console/api/')), evil.evaluate(() => document.getElementById('f').submit())]);
  assert.equal(res.status(), 403);
  await evil.close();
  // Without the console's header, even with the session cookie.
  const cookie = (await context.cookies()).find((c) => c.name === 'parley_console');
  const plain = await fetch(`${endpoint}/console/api/ivschat/CreateRoom`, {
    method: 'POST', headers: { cookie: `parley_console=${cookie.value}`, 'content-type': 'application/json' }, body: '{"name":"csrf"}',
  });
  assert.equal(plain.status, 403);
  // With it, but from another origin.
  const origin = await fetch(`${endpoint}/console/api/ivschat/CreateRoom`, {
    method: 'POST', headers: { cookie: `parley_console=${cookie.value}`, 'X-Parley-Console': '1', origin: 'http://evil.example' }, body: '{"name":"csrf"}',
  });
  assert.equal(origin.status, 403);
  const after = (await ivs.send(new ListRoomsCommand({}))).rooms.length;
  assert.equal(after, before, 'a room was created cross-site');
});
