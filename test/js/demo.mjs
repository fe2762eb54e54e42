// A chat client for trying parley by hand, with the official IVS Chat
// messaging client. It mints its own tokens through the AWS SDK (so run it
// after `eval "$(go run ./cmd/parley env)"`), joins the room, sends one
// message, and prints what the room says until it is disconnected.
//
//   node test/js/demo.mjs <roomArn> <userId> [message]
import WebSocket from 'ws';
import { ChatRoom, SendMessageRequest } from 'amazon-ivs-chat-messaging';
import { IvschatClient, CreateChatTokenCommand } from '@aws-sdk/client-ivschat';

globalThis.WebSocket ??= WebSocket;
const [roomArn, userId, text = `hello from ${process.argv[3]}`] = process.argv.slice(2);
if (!roomArn || !userId || !process.env.PARLEY_ENDPOINT) {
  console.error('usage: node test/js/demo.mjs <roomArn> <userId> [message]   (with PARLEY_ENDPOINT and AWS_* set)');
  process.exit(2);
}
const ivs = new IvschatClient({ endpoint: process.env.PARLEY_ENDPOINT });
const room = new ChatRoom({
  regionOrUrl: process.env.PARLEY_ENDPOINT.replace(/^http/, 'ws'),
  tokenProvider: async () => {
    const out = await ivs.send(new CreateChatTokenCommand({
      roomIdentifier: roomArn, userId, capabilities: ['SEND_MESSAGE', 'DELETE_MESSAGE', 'DISCONNECT_USER'],
    }));
    return { token: out.token, sessionExpirationTime: out.sessionExpirationTime, tokenExpirationTime: out.tokenExpirationTime };
  },
});
room.logLevel = 'error';
room.addListener('connect', async () => {
  console.log(`connected to ${roomArn} as ${userId}`);
  await room.sendMessage(new SendMessageRequest(text));
});
room.addListener('message', (m) => console.log(`[${m.sendTime.toISOString()}] ${m.sender.userId}: ${m.content}`));
room.addListener('event', (e) => console.log(`event ${e.eventName} ${JSON.stringify(e.attributes ?? {})}`));
room.addListener('messageDelete', (e) => console.log(`message ${e.messageId} deleted`));
room.addListener('userDisconnect', (e) => console.log(`${e.userId} was disconnected (${e.reason ?? 'no reason'})`));
room.addListener('disconnect', (reason) => { console.log(`disconnected: ${reason}`); process.exit(0); });
room.connect();
