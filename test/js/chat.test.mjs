// parley driven by the official clients: amazon-ivs-chat-messaging over
// WebSocket and @aws-sdk/client-ivschat for the control plane. Run by the Go
// test TestJSClients (cmd/parley), which starts a server and sets
// PARLEY_ENDPOINT and the AWS_* credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  ChatRoom, SendMessageRequest, DeleteMessageRequest, DisconnectUserRequest,
} from 'amazon-ivs-chat-messaging';
import {
  IvschatClient, CreateRoomCommand, CreateChatTokenCommand, DisconnectUserCommand,
  SendEventCommand, DeleteRoomCommand, GetRoomCommand, ResourceNotFoundException, ValidationException,
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
