// A Chime device for trying parley by hand: it opens the device WebSocket
// with a session token (from POST /parley/v1/accounts/{a}/users/{u}/sessions,
// e.g. with `parley call`) and prints what it is told until it is closed.
//
//   node test/js/device.mjs <sessionToken>
import WebSocket from 'ws';

const [token] = process.argv.slice(2);
if (!token || !process.env.PARLEY_ENDPOINT) {
  console.error('usage: node test/js/device.mjs <sessionToken>   (with PARLEY_ENDPOINT set)');
  process.exit(2);
}
const socket = new WebSocket(process.env.PARLEY_ENDPOINT.replace(/^http/, 'ws') + '/parley/v1/device', token);
socket.on('unexpected-response', (_, res) => { console.log(`refused: ${res.statusCode}`); process.exit(1); });
socket.on('open', () => console.log('device connected'));
socket.on('message', (data) => console.log(`frame ${data}`));
socket.on('close', (code, reason) => { console.log(`closed ${code} ${reason}`); process.exit(0); });
