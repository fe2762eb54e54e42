// parley driven by the official clients: amazon-ivs-chat-messaging over
// WebSocket and @aws-sdk/client-ivschat for the control plane. Run by the Go
// test TestJSClients (cmd/parley), which starts a server and sets
// PARLEY_ENDPOINT and the AWS_* credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import {
  ChatRoom, SendMessageRequest, DeleteMessageRequest, DisconnectUserRequest,
} from 'amazon-ivs-chat-messaging';
import {
  IvschatClient, CreateRoomCommand, CreateChatTokenCommand, DisconnectUserCommand,
  SendEventCommand, DeleteRoomCommand, GetRoomCommand, ResourceNotFoundException, ValidationException,
  AccessDeniedException,
} from '@aws-sdk/client-ivschat';

// Node 20 has no global WebSocket; the messaging client expects one.
globalThis.WebSocket ??= WebSocket;

const endpoint = process.env.PARLEY_ENDPOINT;
assert.ok(endpoint, 'PARLEY_ENDPOINT must be set');
const wsURL = endpoint.replace(/^http/, 'ws');
const ivs = new IvschatClient({
  endpoint,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
  maxAttempts: 1,
});

// parley calls one of parley's /parley/v1 ban operations, which no AWS SDK
// knows, signed for ivschat with the SDK's own SigV4 signer.
const signer = new SignatureV4({
  service: 'ivschat',
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
  sha256: Hash.bind(null, 'sha256'),
});

async function parley(op, input) {
  const url = new URL(`/parley/v1/${op}`, endpoint);
  const body = JSON.stringify(input);
  const signed = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' }, body,
  });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: signed.headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['x-amzn-errortype'], body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const within = (ms, what, promise) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)),
]);

// once resolves with the next emission of event on room.
const once = (room, event) => new Promise((resolve) => {
  const off = room.addListener(event, (...args) => { off(); resolve(args.length > 1 ? args : args[0]); });
});

async function newRoom() {
  return ivs.send(new CreateRoomCommand({ name: 'js' }));
}

// connect opens a ChatRoom for userId whose tokenProvider mints a fresh token
// each time, as an application backend would; tokens counts the calls.
async function connect(roomArn, userId, capabilities = []) {
  const tokens = { count: 0 };
  const room = new ChatRoom({
    regionOrUrl: wsURL,
    tokenProvider: async () => {
      tokens.count++;
      const out = await ivs.send(new CreateChatTokenCommand({ roomIdentifier: roomArn, userId, capabilities, attributes: { name: userId } }));
      return { token: out.token, sessionExpirationTime: out.sessionExpirationTime, tokenExpirationTime: out.tokenExpirationTime };
    },
  });
  room.tokens = tokens;
  const connected = once(room, 'connect');
  room.connect();
  await within(5000, `${userId} to connect`, connected);
  return room;
}

test('messages reach every member and sendMessage resolves', async () => {
  const { arn } = await newRoom();
  const alice = await connect(arn, 'alice', ['SEND_MESSAGE']);
  const bob = await connect(arn, 'bob');
  const received = once(bob, 'message');
  const sent = await within(5000, 'sendMessage', alice.sendMessage(new SendMessageRequest('hello bob', { mood: 'happy' })));
  assert.equal(sent.content, 'hello bob');
  assert.equal(sent.sender.userId, 'alice');
  assert.equal(sent.sender.attributes.name, 'alice');
  const got = await within(5000, 'bob to receive', received);
  assert.equal(got.id, sent.id);
  assert.equal(got.attributes.mood, 'happy');
  assert.ok(got.sendTime instanceof Date && !Number.isNaN(got.sendTime.getTime()));
  alice.disconnect();
  bob.disconnect();
});

test('a missing capability rejects with ChatError 403', async () => {
  const { arn } = await newRoom();
  const reader = await connect(arn, 'reader');
  await assert.rejects(within(5000, 'sendMessage', reader.sendMessage(new SendMessageRequest('hi'))), (err) => err.errorCode === 403);
  await assert.rejects(within(5000, 'deleteMessage', reader.deleteMessage(new DeleteMessageRequest('abcdEFGH1234'))), (err) => err.errorCode === 403);
  reader.disconnect();
});

test('a message over the room length rejects with ChatError 413', async () => {
  const { arn } = await ivs.send(new CreateRoomCommand({ maximumMessageLength: 3 }));
  const c = await connect(arn, 'c', ['SEND_MESSAGE']);
  await assert.rejects(within(5000, 'sendMessage', c.sendMessage(new SendMessageRequest('four'))), (err) => err.errorCode === 413);
  const ok = await within(5000, 'sendMessage', c.sendMessage(new SendMessageRequest('ééé')));
  assert.equal(ok.content, 'ééé');
  c.disconnect();
});

test('deleteMessage resolves and others see messageDelete', async () => {
  const { arn } = await newRoom();
  const mod = await connect(arn, 'mod', ['SEND_MESSAGE', 'DELETE_MESSAGE']);
  const viewer = await connect(arn, 'viewer');
  const msg = await mod.sendMessage(new SendMessageRequest('oops'));
  const seen = once(viewer, 'messageDelete');
  const ev = await within(5000, 'deleteMessage', mod.deleteMessage(new DeleteMessageRequest(msg.id, 'typo')));
  assert.equal(ev.messageId, msg.id);
  const got = await within(5000, 'messageDelete', seen);
  assert.equal(got.messageId, msg.id);
  assert.equal(got.reason, 'typo');
  mod.disconnect();
  viewer.disconnect();
});

test('disconnectUser from a client closes the target, who does not reconnect', async () => {
  const { arn } = await newRoom();
  const mod = await connect(arn, 'mod', ['DISCONNECT_USER']);
  const target = await connect(arn, 'target');
  const told = once(target, 'userDisconnect');
  const gone = once(target, 'disconnect');
  let reconnecting = false;
  target.addListener('connecting', () => { reconnecting = true; });
  const ev = await within(5000, 'disconnectUser', mod.disconnectUser(new DisconnectUserRequest('target', 'enough')));
  assert.equal(ev.userId, 'target');
  assert.equal((await within(5000, 'userDisconnect', told)).userId, 'target');
  assert.equal(await within(5000, 'disconnect', gone), 'serverDisconnect');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(reconnecting, false, 'the disconnected client reconnected');
  assert.equal(target.state, 'disconnected');
  mod.disconnect();
});

test('DisconnectUserCommand closes every connection of the user before it returns', async () => {
  const { arn } = await newRoom();
  const a1 = await connect(arn, 'u1');
  const a2 = await connect(arn, 'u1');
  const other = await connect(arn, 'u2');
  const gone = [once(a1, 'disconnect'), once(a2, 'disconnect')];
  const told = once(other, 'userDisconnect');
  await ivs.send(new DisconnectUserCommand({ roomIdentifier: arn, userId: 'u1', reason: 'banned' }));
  assert.deepEqual(await within(5000, 'both disconnects', Promise.all(gone)), ['serverDisconnect', 'serverDisconnect']);
  const ev = await within(5000, 'userDisconnect', told);
  assert.equal(ev.userId, 'u1');
  assert.equal(ev.reason, 'banned');
  assert.equal(other.state, 'connected');
  other.disconnect();
});

test('SendEventCommand reaches the room as an event', async () => {
  const { arn } = await newRoom();
  const c = await connect(arn, 'c');
  const got = once(c, 'event');
  const { id } = await ivs.send(new SendEventCommand({ roomIdentifier: arn, eventName: 'app:poll', attributes: { question: 'tea?' } }));
  const ev = await within(5000, 'event', got);
  assert.equal(ev.id, id);
  assert.equal(ev.eventName, 'app:poll');
  assert.equal(ev.attributes.question, 'tea?');
  c.disconnect();
});

test('DeleteRoomCommand ends the room for its members', async () => {
  const { arn } = await newRoom();
  const c = await connect(arn, 'c');
  const gone = once(c, 'disconnect');
  await ivs.send(new DeleteRoomCommand({ identifier: arn }));
  assert.equal(await within(5000, 'disconnect', gone), 'serverDisconnect');
  await assert.rejects(ivs.send(new GetRoomCommand({ identifier: arn })), (err) => err instanceof ResourceNotFoundException && err.resourceId === arn.split('/')[1]);
});

test('the JS SDK gets typed validation errors', async () => {
  await assert.rejects(ivs.send(new CreateRoomCommand({ maximumMessageLength: 9999 })), (err) => {
    assert.ok(err instanceof ValidationException);
    assert.equal(err.reason, 'FIELD_VALIDATION_FAILED');
    assert.equal(err.fieldList[0].name, 'maximumMessageLength');
    assert.equal(err.$metadata.httpStatusCode, 400);
    return true;
  });
});

test('a ban keeps a user out, whatever token it holds, until DeleteBan', async () => {
  const { arn } = await newRoom();
  const minted = [];
  for (let i = 0; i < 3; i++) {
    minted.push(await ivs.send(new CreateChatTokenCommand({ roomIdentifier: arn, userId: 'troll' })));
  }
  const troll = await connect(arn, 'troll');
  const mod = await connect(arn, 'mod');
  const gone = once(troll, 'disconnect');
  const told = once(mod, 'userDisconnect');
  let reconnecting = false;
  troll.addListener('connecting', () => { reconnecting = true; });

  const ban = await parley('CreateBan', { roomIdentifier: arn, userId: 'troll', reason: 'spam', durationInMinutes: 60 });
  assert.equal(ban.status, 200, JSON.stringify(ban.body));
  assert.equal(ban.body.roomArn, arn);
  assert.ok(new Date(ban.body.expireTime) - new Date(ban.body.createTime) === 60 * 60 * 1000);
  assert.equal(await within(5000, 'disconnect', gone), 'serverDisconnect');
  const ev = await within(5000, 'userDisconnect', told);
  assert.equal(ev.userId, 'troll');
  assert.equal(ev.reason, 'spam');
  await sleep(300);
  assert.equal(reconnecting, false, 'the banned client reconnected');

  // The three tokens minted before the ban, then fresh ones from the
  // application: none connects, and the client gives up after its few
  // attempts instead of looping.
  let calls = 0;
  const refusals = [];
  const banned = new ChatRoom({
    regionOrUrl: wsURL,
    tokenProvider: async () => {
      calls++;
      if (calls <= minted.length) return minted[calls - 1];
      try {
        return await ivs.send(new CreateChatTokenCommand({ roomIdentifier: arn, userId: 'troll' }));
      } catch (err) {
        refusals.push(err);
        throw err;
      }
    },
  });
  let connected = false;
  banned.addListener('connect', () => { connected = true; });
  const ended = once(banned, 'disconnect');
  banned.connect();
  const reason = await within(10000, 'the banned client to give up', ended);
  const settled = calls;
  await sleep(500);
  assert.equal(connected, false, 'a banned user connected');
  assert.ok(['socketError', 'fetchTokenError'].includes(reason), `disconnect reason ${reason}`);
  assert.ok(settled >= minted.length && settled <= 4, `tokenProvider called ${settled} times`);
  assert.equal(calls, settled, 'the client kept retrying after it gave up');
  assert.equal(banned.state, 'disconnected');
  for (const err of refusals) {
    assert.ok(err instanceof AccessDeniedException && /banned/.test(err.message), String(err));
  }
  await assert.rejects(ivs.send(new CreateChatTokenCommand({ roomIdentifier: arn, userId: 'troll' })), (err) => {
    assert.ok(err instanceof AccessDeniedException);
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.match(err.message, /banned .* until \d{4}-\d\d-\d\dT.*: spam/);
    return true;
  });

  const lifted = await parley('DeleteBan', { roomIdentifier: arn, userId: 'troll' });
  assert.equal(lifted.status, 204);
  const back = new ChatRoom({ regionOrUrl: wsURL, tokenProvider: async () => minted[0] });
  const backConnected = once(back, 'connect');
  back.connect();
  await within(5000, 'a token minted before the ban to connect after DeleteBan', backConnected);
  back.disconnect();
  mod.disconnect();
  const again = await parley('DeleteBan', { roomIdentifier: arn, userId: 'troll' });
  assert.equal(again.status, 404);
  assert.equal(again.type, 'ResourceNotFoundException');
});
