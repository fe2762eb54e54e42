// The console's pages. Each page renders into <main> and returns a
// function that stops its timers and streams when the page is left.
import { h, replace, toast, ask, ago, when } from './dom.js';
import * as api from './api.js';
import { lineChart } from './chart.js';

const main = document.getElementById('main');
let me = null; // the session: accessKeyId, accountId, region, node
let leave = () => {};

api.whenSignedOut(() => { me = null; if (!location.hash.startsWith('#/signin')) location.hash = '#/signin'; });

// every calls fn now and every ms until the page is left.
function every(ms, fn) {
  let stopped = false;
  let timer;
  const run = async () => {
    try { await fn(); } catch (e) { if (!stopped) showError(e); }
    if (!stopped) timer = setTimeout(run, ms);
  };
  run();
  return () => { stopped = true; clearTimeout(timer); };
}

function showError(e) {
  if (e?.status === 401) return;
  toast(`${e.type ? e.type + ': ' : ''}${e.message}`, 'error');
}

// act runs a console action and reports how it went.
async function act(what, fn) {
  try {
    await fn();
    toast(`${what}: done`, 'ok');
    return true;
  } catch (e) {
    showError(e);
    return false;
  }
}

const roomId = (arn) => arn.split('/').pop();
const roomHref = (arn) => `#/room/${encodeURIComponent(arn)}`;

// ---------- sign-in ----------

async function signInPage() {
  document.getElementById('nav').hidden = true;
  replace(document.getElementById('who'));
  const cfg = await api.get('config').catch(() => ({ region: 'us-east-1' }));
  const err = h('p', { class: 'error', id: 'signin-error', role: 'alert' });
  const form = h('form', { class: 'signin card', id: 'signin', onsubmit: async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form).entries());
    form.querySelector('[name=secretAccessKey]').value = '';
    try {
      me = await api.post('session', data);
      location.hash = '#/rooms';
    } catch (e) {
      err.textContent = e.message;
    }
  } },
  h('h1', {}, 'Sign in to parley'),
  h('p', { class: 'muted' }, 'With an access key of a parley account (', h('code', {}, 'parley keys create'), '). The secret is checked once and never kept by the browser.'),
  h('label', {}, h('span', {}, 'Access key ID'), h('input', { name: 'accessKeyId', required: true, autocomplete: 'username', autofocus: true })),
  h('label', {}, h('span', {}, 'Secret access key'), h('input', { name: 'secretAccessKey', type: 'password', required: true, autocomplete: 'current-password' })),
  h('label', {}, h('span', {}, 'Region'), h('input', { name: 'region', value: cfg.region, required: true })),
  err,
  h('button', { class: 'primary', type: 'submit' }, 'Sign in'));
  replace(main, form);
  return () => {};
}

function header() {
  document.getElementById('nav').hidden = false;
  replace(document.getElementById('who'),
    h('span', { title: 'AWS account' }, me.accountId), ' · ',
    h('span', { title: 'region' }, me.region), ' · ',
    h('span', { title: 'access key' }, me.accessKeyId), ' · ',
    h('span', { title: 'node serving this console', class: 'muted' }, `node ${me.node.slice(0, 8)}`), ' ',
    h('button', { class: 'link', id: 'signout', onclick: async () => { await api.del('session').catch(() => {}); me = null; location.hash = '#/signin'; } }, 'Sign out'));
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', location.hash.startsWith(`#/${a.dataset.page}`) ||
      (a.dataset.page === 'rooms' && location.hash.startsWith('#/room/')));
  }
}

// ---------- IVS rooms ----------

// liveRooms sums the nodes' answers: connections per room, per node.
function liveRooms(nodes) {
  const rooms = {};
  for (const n of nodes) {
    for (const r of n.snapshot?.ivsRooms ?? []) {
      const e = (rooms[r.RoomID] ??= { total: 0, nodes: {}, users: [] });
      e.total += r.Connections;
      e.nodes[n.id] = r.Connections;
      for (const u of r.Users ?? []) e.users.push({ ...u, node: n.id });
    }
  }
  return rooms;
}

function roomsPage() {
  let rooms = [];
  let live = {};
  const search = h('input', { type: 'search', placeholder: 'Search by name or ID', id: 'room-search', oninput: () => draw() });
  const body = h('tbody');
  const count = h('span', { class: 'muted' });
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = rooms.filter((r) => !q || (r.name ?? '').toLowerCase().includes(q) || r.id.includes(q));
    count.textContent = `${shown.length} of ${rooms.length} rooms`;
    replace(body, shown.map((r) => {
      const l = live[r.id];
      return h('tr', { dataset: { room: r.id } },
        h('td', {}, h('a', { href: roomHref(r.arn) }, r.name || '(no name)')),
        h('td', {}, h('code', {}, r.id)),
        h('td', { class: 'num conns' }, l ? String(l.total) : '0'),
        h('td', { class: 'muted' }, l ? Object.entries(l.nodes).map(([n, c]) => `${n.slice(0, 8)}: ${c}`).join(', ') : ''),
        h('td', {}, Object.entries(r.tags ?? {}).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`))),
        h('td', { class: 'muted' }, when(r.updateTime)));
    }));
    if (!shown.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No rooms.')));
  };
  replace(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'IVS rooms'), count, search,
      h('button', { class: 'primary', id: 'create-room', onclick: async () => {
        const v = await ask('Create room', [{ name: 'name', label: 'Name', placeholder: 'lobby' }], 'Create');
        if (v && await act('CreateRoom', () => api.ivs('CreateRoom', v.name ? { name: v.name } : {}))) loadRooms();
      } }, 'Create room')),
    h('table', { class: 'list', id: 'rooms' },
      h('thead', {}, h('tr', {}, ['Name', 'Room ID', 'Connected', 'Per node', 'Tags', 'Updated'].map((t) => h('th', {}, t)))), body));
  const loadRooms = async () => { rooms = await api.all('ListRooms', { maxResults: 50 }, 'rooms'); draw(); };
  const stopList = every(10000, loadRooms);
  const stopLive = every(2000, async () => { live = liveRooms((await api.get('live')).nodes); draw(); });
  return () => { stopList(); stopLive(); };
}

function roomPage(arn) {
  const id = roomId(arn);
  let room = null;
  const title = h('h1', {}, 'Room');
  const settings = h('dl', { class: 'kv', id: 'settings' });
  const tags = h('div', { id: 'tags' });
  const logging = h('div', { id: 'logging' });
  const perNode = h('tbody');
  const users = h('tbody', { id: 'users' });
  const tail = h('ol', { class: 'tail', id: 'tail' });
  const total = h('span', { class: 'big', id: 'conn-total' }, '0');

  const loadRoom = async () => {
    room = await api.ivs('GetRoom', { identifier: arn });
    title.textContent = room.name || room.id;
    replace(settings,
      h('dt', {}, 'ARN'), h('dd', {}, h('code', {}, room.arn)),
      h('dt', {}, 'Maximum message rate'), h('dd', {}, `${room.maximumMessageRatePerSecond} / s`),
      h('dt', {}, 'Maximum message length'), h('dd', {}, `${room.maximumMessageLength} characters`),
      h('dt', {}, 'Review handler'), h('dd', {}, room.messageReviewHandler?.uri ? `${room.messageReviewHandler.uri} (fallback ${room.messageReviewHandler.fallbackResult})` : 'none'),
      h('dt', {}, 'Created'), h('dd', {}, when(room.createTime)),
      h('dt', {}, 'Updated'), h('dd', {}, when(room.updateTime)));
    const t = await api.ivsGet(`tags/${encodeURIComponent(arn)}`);
    replace(tags, Object.keys(t.tags ?? {}).length ? Object.entries(t.tags).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`)) : h('span', { class: 'muted' }, 'No tags.'));
    const configs = await Promise.all((room.loggingConfigurationIdentifiers ?? []).map((c) => api.ivs('GetLoggingConfiguration', { identifier: c }).catch((e) => ({ arn: c, name: `(${e.message})` }))));
    replace(logging, configs.length ? h('ul', {}, configs.map((c) => {
      const d = c.destinationConfiguration ?? {};
      const dest = d.s3 ? `S3 ${d.s3.bucketName}` : d.cloudWatchLogs ? `CloudWatch Logs ${d.cloudWatchLogs.logGroupName}` : d.firehose ? `Firehose ${d.firehose.deliveryStreamName}` : '';
      return h('li', {}, h('b', {}, c.name || c.id), ' ', h('span', { class: 'muted' }, dest));
    })) : h('span', { class: 'muted' }, 'No logging configurations.'));
  };

  const disconnect = async (user) => {
    const v = await ask(`Disconnect ${user}`, [{ name: 'reason', label: 'Reason (told to the room)', value: 'Disconnected by a moderator', required: true }], 'Disconnect', true);
    if (v) await act(`DisconnectUser ${user}`, () => api.ivs('DisconnectUser', { roomIdentifier: arn, userId: user, reason: v.reason }));
  };
  const ban = async (user) => {
    const v = await ask(`Ban ${user} from this room`, [
      { name: 'reason', label: 'Reason', value: 'Banned by a moderator', required: true },
      { name: 'minutes', label: 'Duration in minutes (empty: until lifted)', type: 'number' }], 'Ban', true);
    if (v) await act(`CreateBan ${user}`, () => api.post('ivschat/parley/v1/CreateBan', { roomIdentifier: arn, userId: user, reason: v.reason, ...(v.minutes ? { durationInMinutes: Number(v.minutes) } : {}) }));
  };

  const loadLive = async () => {
    const { nodes } = await api.get(`live?room=${encodeURIComponent(arn)}`);
    const l = liveRooms(nodes)[id] ?? { total: 0, nodes: {}, users: [] };
    total.textContent = String(l.total);
    replace(perNode, nodes.map((n) => h('tr', {},
      h('td', {}, h('code', {}, n.id.slice(0, 8)), n.this ? h('span', { class: 'badge' }, 'this node') : ''),
      h('td', {}, !n.live ? h('span', { class: 'badge bad' }, 'dead') : n.fenced ? h('span', { class: 'badge bad' }, 'fenced') : !n.snapshot ? h('span', { class: 'badge warn' }, 'no answer') : h('span', { class: 'badge ok' }, 'live')),
      h('td', { class: 'num' }, String(l.nodes[n.id] ?? 0)))));
    // One row per user: their connections on every node.
    const byUser = {};
    for (const u of l.users) {
      const e = (byUser[u.UserID] ??= { ...u, Connections: 0, nodes: [] });
      e.Connections += u.Connections;
      e.nodes.push(u.node.slice(0, 8));
    }
    const list = Object.values(byUser).sort((a, b) => a.UserID.localeCompare(b.UserID));
    replace(users, list.map((u) => h('tr', { dataset: { user: u.UserID } },
      h('td', {}, h('b', {}, u.UserID), u.Attributes?.displayName ? h('span', { class: 'muted' }, ` ${u.Attributes.displayName}`) : ''),
      h('td', { class: 'num' }, String(u.Connections)),
      h('td', { class: 'muted' }, u.nodes.join(', ')),
      h('td', {}, (u.Capabilities ?? []).map((c) => h('span', { class: 'tag' }, c))),
      h('td', { class: 'muted' }, (u.IPs ?? []).join(', ')),
      h('td', { class: 'actions' },
        h('button', { class: 'danger small', dataset: { action: 'disconnect' }, onclick: () => disconnect(u.UserID) }, 'Disconnect'),
        h('button', { class: 'secondary small', dataset: { action: 'ban' }, onclick: () => ban(u.UserID) }, 'Ban')))));
    if (!list.length) users.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Nobody is connected.')));
  };

  const deleteMessage = async (msgId) => {
    const v = await ask('Delete message', [{ name: 'reason', label: 'Reason (optional)', value: '' }], 'Delete', true);
    if (v) await act('DeleteMessage', () => api.ivs('DeleteMessage', { roomIdentifier: arn, id: msgId, ...(v.reason ? { reason: v.reason } : {}) }));
  };
  const tailLine = (e) => {
    const t = new Date(e.time).toISOString().slice(11, 23);
    if (e.kind === 'MESSAGE') {
      return h('li', { class: 'msg', dataset: { id: e.id } }, h('time', {}, t), h('b', {}, e.sender), ' ', e.content,
        h('button', { class: 'link small', dataset: { action: 'delete' }, onclick: () => deleteMessage(e.id) }, 'delete'));
    }
    if (e.kind === 'COMMAND') {
      return h('li', { class: 'cmd' }, h('time', {}, t), h('b', {}, e.name), ' ', e.user ?? '', e.reason ? ` — ${e.reason}` : '');
    }
    if (e.kind === 'LOST') return h('li', { class: 'cmd' }, e.content);
    const attrs = Object.entries(e.attributes ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
    return h('li', { class: 'event' }, h('time', {}, t), h('b', {}, e.name), ' ', h('span', { class: 'muted' }, attrs));
  };
  const stream = new EventSource(`/console/api/tail?room=${encodeURIComponent(arn)}`);
  stream.onmessage = (m) => {
    const e = JSON.parse(m.data);
    tail.prepend(tailLine(e));
    while (tail.children.length > 500) tail.lastChild.remove();
    if (e.kind === 'MESSAGE' || e.kind === 'COMMAND') tail.querySelector('.empty')?.remove();
  };
  tail.append(h('li', { class: 'empty muted' }, 'Messages and events appear here as they are sent.'));

  const edit = async () => {
    const v = await ask('Edit room', [
      { name: 'name', label: 'Name', value: room?.name ?? '' },
      { name: 'rate', label: 'Maximum message rate per second (1–100)', type: 'number', value: room?.maximumMessageRatePerSecond },
      { name: 'length', label: 'Maximum message length (1–500)', type: 'number', value: room?.maximumMessageLength }], 'Save');
    if (v && await act('UpdateRoom', () => api.ivs('UpdateRoom', { identifier: arn, name: v.name, maximumMessageRatePerSecond: Number(v.rate), maximumMessageLength: Number(v.length) }))) loadRoom();
  };
  const sendEvent = async () => {
    const v = await ask('Send event', [
      { name: 'eventName', label: 'Event name', value: 'app:announcement', required: true },
      { name: 'attributes', label: 'Attributes, one key=value a line', type: 'textarea' }], 'Send');
    if (!v) return;
    const attributes = Object.fromEntries(v.attributes.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')]));
    await act('SendEvent', () => api.ivs('SendEvent', { roomIdentifier: arn, eventName: v.eventName, ...(Object.keys(attributes).length ? { attributes } : {}) }));
  };

  replace(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/rooms' }, 'IVS rooms'), ' / ', h('code', {}, id)),
    h('div', { class: 'page-head' }, title,
      h('div', { class: 'stat' }, total, h('span', { class: 'muted' }, 'connected now')),
      h('button', { class: 'secondary', id: 'edit-room', onclick: edit }, 'Edit room'),
      h('button', { class: 'primary', id: 'send-event', onclick: sendEvent }, 'Send event')),
    h('div', { class: 'grid' },
      h('section', { class: 'card wide' }, h('h2', {}, 'Users connected now'),
        h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['User', 'Connections', 'Nodes', 'Capabilities', 'IP', ''].map((t) => h('th', {}, t)))), users)),
      h('section', { class: 'card' }, h('h2', {}, 'Connections by node'),
        h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['Node', 'State', 'Connections'].map((t) => h('th', {}, t)))), perNode)),
      h('section', { class: 'card wide' }, h('h2', {}, 'Live tail'), tail),
      h('section', { class: 'card' }, h('h2', {}, 'Settings'), settings, h('h3', {}, 'Tags'), tags, h('h3', {}, 'Logging configurations'), logging)));
  loadRoom().catch(showError);
  const stopLive = every(1500, loadLive);
  return () => { stopLive(); stream.close(); };
}

// ---------- Chime ----------

function chimePage() {
  const body = h('tbody');
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Chime accounts')),
    h('table', { class: 'list', id: 'accounts' }, h('thead', {}, h('tr', {}, ['Name', 'Account ID', 'Type', 'Created'].map((t) => h('th', {}, t)))), body));
  return every(10000, async () => {
    const accounts = await api.allChime('/accounts?max-results=100', 'Accounts');
    replace(body, accounts.map((a) => h('tr', {},
      h('td', {}, h('a', { href: `#/chime/${a.AccountId}` }, a.Name)), h('td', {}, h('code', {}, a.AccountId)),
      h('td', {}, a.AccountType), h('td', { class: 'muted' }, when(a.CreatedTimestamp)))));
    if (!accounts.length) body.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No Chime accounts.')));
  });
}

function chimeAccountPage(accountId) {
  const users = h('tbody', { id: 'chime-users' });
  const rooms = h('div', { id: 'chime-rooms' });
  const bots = h('tbody');
  const title = h('h1', {}, 'Chime account');
  let userList = [];
  let devices = {};
  const base = `/accounts/${accountId}`;
  const userAction = async (u, what) => {
    const label = u.DisplayName || u.PrimaryEmail || u.UserId;
    if (what === 'logout') {
      if (await ask(`Sign ${label} out of every device?`, [], 'Log out', true)) {
        await act(`LogoutUser ${label}`, () => api.chime('POST', `${base}/users/${u.UserId}?operation=logout`));
      }
    } else if (what === 'suspend') {
      if (await ask(`Suspend ${label}? Their devices are signed out at once and cannot sign in again until unsuspended.`, [], 'Suspend', true)) {
        await act(`BatchSuspendUser ${label}`, async () => {
          const r = await api.chime('POST', `${base}/users?operation=suspend`, { UserIdList: [u.UserId] });
          if (r.UserErrors?.length) throw new Error(r.UserErrors[0].ErrorMessage);
        });
      }
    } else if (what === 'unsuspend') {
      await act(`BatchUnsuspendUser ${label}`, async () => {
        const r = await api.chime('POST', `${base}/users?operation=unsuspend`, { UserIdList: [u.UserId] });
        if (r.UserErrors?.length) throw new Error(r.UserErrors[0].ErrorMessage);
      });
    }
    loadUsers();
  };
  const drawUsers = () => {
    replace(users, userList.map((u) => {
      const d = devices[u.UserId];
      const status = u.UserRegistrationStatus ?? '';
      return h('tr', { dataset: { user: u.UserId } },
        h('td', {}, h('b', {}, u.DisplayName || '—'), h('div', { class: 'muted' }, u.PrimaryEmail)),
        h('td', {}, h('span', { class: `badge ${status === 'Suspended' ? 'bad' : status === 'Registered' ? 'ok' : 'warn'}`, dataset: { status } }, status)),
        h('td', { class: 'num devices' }, d ? String(d.count) : '0'),
        h('td', { class: 'muted' }, d ? d.nodes.join(', ') : ''),
        h('td', { class: 'actions' },
          h('button', { class: 'secondary small', dataset: { action: 'logout' }, onclick: () => userAction(u, 'logout') }, 'Log out'),
          status === 'Suspended'
            ? h('button', { class: 'secondary small', dataset: { action: 'unsuspend' }, onclick: () => userAction(u, 'unsuspend') }, 'Unsuspend')
            : h('button', { class: 'danger small', dataset: { action: 'suspend' }, onclick: () => userAction(u, 'suspend') }, 'Suspend')));
    }));
    if (!userList.length) users.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No users.')));
  };
  const loadUsers = async () => { userList = await api.allChime(`${base}/users?max-results=200`, 'Users'); drawUsers(); };
  const loadDevices = async () => {
    const { nodes } = await api.get('live?devices=1');
    devices = {};
    for (const n of nodes) {
      for (const d of n.snapshot?.chimeUsers ?? []) {
        if (d.AccountID !== accountId) continue;
        const e = (devices[d.UserID] ??= { count: 0, nodes: [] });
        e.count += d.Devices;
        e.nodes.push(n.id.slice(0, 8));
      }
    }
    drawUsers();
  };
  const loadRooms = async () => {
    const list = await api.allChime(`${base}/rooms?max-results=50`, 'Rooms');
    replace(rooms, list.length ? list.map((r) => {
      const members = h('tbody');
      const loadMembers = async () => {
        const ms = await api.allChime(`${base}/rooms/${r.RoomId}/memberships?max-results=50`, 'RoomMemberships');
        replace(members, ms.map((m) => h('tr', {},
          h('td', {}, m.Member.FullName || m.Member.MemberId), h('td', {}, m.Member.MemberType), h('td', {}, m.Role),
          h('td', { class: 'actions' }, h('button', { class: 'danger small', onclick: async () => {
            if (await ask(`Remove ${m.Member.FullName || m.Member.MemberId} from ${r.Name}?`, [], 'Remove', true) &&
                await act('DeleteRoomMembership', () => api.chime('DELETE', `${base}/rooms/${r.RoomId}/memberships/${m.Member.MemberId}`))) loadMembers();
          } }, 'Remove')))));
        if (!ms.length) members.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No members.')));
      };
      const box = h('details', { class: 'room', ontoggle: () => box.open && loadMembers().catch(showError) },
        h('summary', {}, h('b', {}, r.Name), ' ', h('code', { class: 'muted' }, r.RoomId)),
        h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['Member', 'Type', 'Role', ''].map((t) => h('th', {}, t)))), members));
      return box;
    }) : h('p', { class: 'muted' }, 'No rooms.'));
    const bl = await api.allChime(`${base}/bots?max-results=10`, 'Bots');
    replace(bots, bl.map((b) => h('tr', {}, h('td', {}, b.DisplayName), h('td', {}, h('code', {}, b.BotId)), h('td', {}, b.Disabled ? 'disabled' : 'enabled'))));
    if (!bl.length) bots.append(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No bots.')));
  };
  replace(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/chime' }, 'Chime accounts'), ' / ', h('code', {}, accountId)),
    h('div', { class: 'page-head' }, title),
    h('div', { class: 'grid' },
      h('section', { class: 'card wide' }, h('h2', {}, 'Users'),
        h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['User', 'Status', 'Devices now', 'Nodes', ''].map((t) => h('th', {}, t)))), users)),
      h('section', { class: 'card' }, h('h2', {}, 'Rooms and memberships'), rooms),
      h('section', { class: 'card' }, h('h2', {}, 'Bots'), h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['Name', 'Bot ID', 'State'].map((t) => h('th', {}, t)))), bots))));
  api.chime('GET', base).then((a) => { title.textContent = a.Account.Name; }).catch(showError);
  const s1 = every(5000, loadUsers);
  const s2 = every(1500, loadDevices);
  const s3 = every(30000, loadRooms);
  return () => { s1(); s2(); s3(); };
}

// ---------- bans ----------

function bansPage() {
  const body = h('tbody', { id: 'bans' });
  const load = async () => {
    const { bans = [] } = await api.post('ivschat/parley/v1/ListBans', { maxResults: 100 });
    replace(body, bans.map((b) => h('tr', {},
      h('td', {}, h('b', {}, b.userId)),
      h('td', {}, b.roomArn ? h('a', { href: roomHref(b.roomArn) }, h('code', {}, roomId(b.roomArn))) : h('span', { class: 'badge warn' }, 'every room')),
      h('td', {}, b.reason), h('td', { class: 'muted' }, when(b.createTime)), h('td', { class: 'muted' }, b.expireTime ? when(b.expireTime) : 'until lifted'),
      h('td', { class: 'actions' }, h('button', { class: 'secondary small', onclick: async () => {
        if (await act(`DeleteBan ${b.userId}`, () => api.post('ivschat/parley/v1/DeleteBan', { userId: b.userId, ...(b.roomArn ? { roomIdentifier: b.roomArn } : {}) }))) load();
      } }, 'Lift')))));
    if (!bans.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No bans in force.')));
  };
  const create = async () => {
    const rooms = await api.all('ListRooms', { maxResults: 50 }, 'rooms').catch(() => []);
    const v = await ask('Ban a user', [
      { name: 'userId', label: 'User ID', required: true },
      { name: 'room', label: 'Room', options: [['', 'Every room of the account in this region'], ...rooms.map((r) => [r.arn, r.name || r.id])] },
      { name: 'reason', label: 'Reason (told to the room)', required: true },
      { name: 'minutes', label: 'Duration in minutes (empty: until lifted)', type: 'number' }], 'Ban', true);
    if (v && await act(`CreateBan ${v.userId}`, () => api.post('ivschat/parley/v1/CreateBan', {
      userId: v.userId, reason: v.reason, ...(v.room ? { roomIdentifier: v.room } : {}), ...(v.minutes ? { durationInMinutes: Number(v.minutes) } : {}),
    }))) load();
  };
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Bans'), h('button', { class: 'primary', id: 'create-ban', onclick: create }, 'Ban a user')),
    h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['User', 'Room', 'Reason', 'Since', 'Ends', ''].map((t) => h('th', {}, t)))), body));
  return every(5000, load);
}

// ---------- audit ----------

function auditPage() {
  const body = h('tbody', { id: 'audit' });
  const action = h('select', { name: 'action', id: 'audit-action' }, h('option', { value: '' }, 'any action'));
  const caller = h('select', { name: 'caller', id: 'audit-caller' }, h('option', { value: '' }, 'any caller'));
  const target = h('input', { name: 'target', type: 'search', placeholder: 'target contains…', id: 'audit-target' });
  const since = h('input', { name: 'since', type: 'datetime-local', title: 'since (UTC)' });
  const until = h('input', { name: 'until', type: 'datetime-local', title: 'until (UTC)' });
  const matched = h('span', { class: 'muted' });
  const seen = new Set();
  let first = true;
  const fill = (select, values) => {
    const cur = select.value;
    const have = new Set([...select.options].map((o) => o.value));
    for (const v of values) if (!have.has(v)) select.append(h('option', { value: v }, v));
    select.value = cur;
  };
  const load = async () => {
    const q = new URLSearchParams();
    for (const el of [action, caller, target, since, until]) if (el.value) q.set(el.name, el.value);
    const r = await api.get(`audit?${q}`);
    fill(action, r.actions);
    fill(caller, r.callers);
    matched.textContent = `${r.matched} records`;
    replace(body, r.records.map((rec) => {
      const fresh = !first && !seen.has(rec.id);
      seen.add(rec.id);
      return h('tr', { class: fresh ? 'new' : '', dataset: { action: rec.action } },
        h('td', { class: 'muted nowrap' }, when(rec.time)), h('td', {}, h('b', {}, rec.action)),
        h('td', {}, h('code', {}, rec.caller)), h('td', { class: 'target' }, rec.target, rec.detail ? h('div', { class: 'muted' }, rec.detail) : ''),
        h('td', {}, h('span', { class: `badge ${rec.result === 'ok' ? 'ok' : 'bad'}` }, rec.result)));
    }));
    if (!r.records.length) body.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No records match.')));
    first = false;
  };
  const refilter = () => { first = true; seen.clear(); load().catch(showError); };
  for (const el of [action, caller, since, until]) el.addEventListener('change', refilter);
  target.addEventListener('input', refilter);
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Audit trail'), matched),
    h('div', { class: 'filters' }, action, caller, target, since, until),
    h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['Time', 'Action', 'Caller', 'Target', 'Result'].map((t) => h('th', {}, t)))), body));
  return every(2000, load);
}

// ---------- cluster ----------

function clusterPage() {
  const body = h('tbody', { id: 'nodes' });
  const charts = h('div', { class: 'charts' });
  const load = async () => {
    const { nodes, leaseMillis } = await api.get('cluster');
    replace(body, nodes.map((n) => {
      const s = n.snapshot;
      const state = n.fenced ? ['bad', 'fenced'] : !n.live ? ['bad', 'lease expired'] : !s ? ['warn', 'no answer'] : ['ok', 'live'];
      const up = (v) => h('span', { class: `badge ${v ? 'ok' : 'bad'}` }, v ? 'up' : 'down');
      return h('tr', { dataset: { node: n.id } },
        h('td', {}, h('code', {}, n.id), n.this ? h('span', { class: 'badge' }, 'this node') : ''),
        h('td', {}, h('span', { class: `badge ${state[0]}` }, state[1])),
        h('td', { class: 'num' }, ago(n.ageMillis), h('div', { class: 'muted' }, `lease ${ago(leaseMillis)}`)),
        h('td', { class: 'num' }, s ? String(s.connections) : '—'),
        h('td', { class: 'num' }, s ? String(s.devices) : '—'),
        h('td', { class: 'num' }, s ? String(s.rooms) : '—'),
        h('td', { class: 'num' }, s ? String(s.control.Waiting) : '—'),
        h('td', { class: 'num' }, s ? String(s.slowDrops) : '—'),
        h('td', {}, s ? up(s.control.StoreUp) : '—'),
        h('td', {}, s ? up(s.control.BusUp) : '—'));
    }));
    const withHistory = nodes.filter((n) => n.snapshot?.history?.length);
    replace(charts,
      lineChart({ title: 'Open connections per node (last hour)', series: withHistory.map((n) => ({ name: n.id.slice(0, 8), points: n.snapshot.history.map((p) => [p.t, p.c]) })) }),
      lineChart({ title: 'Messages and events delivered per second, per node (last hour)', unit: '/s', series: withHistory.map((n) => ({ name: n.id.slice(0, 8), points: n.snapshot.history.map((p) => [p.t, p.m]) })) }));
  };
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Cluster')),
    h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['Node', 'State', 'Heartbeat age', 'Connections', 'Devices', 'Rooms', 'Commands waiting', 'Slow drops', 'Store', 'Bus'].map((t) => h('th', {}, t)))), body),
    charts,
    h('p', { class: 'muted' }, 'Heartbeat ages are by the store\'s clock. Node totals cover every account, as /metrics does; Prometheus metrics: ', h('a', { href: '/metrics' }, '/metrics'), '.'));
  return every(3000, load);
}

// ---------- routing ----------

async function route() {
  leave();
  leave = () => {};
  const hash = location.hash || '#/rooms';
  if (hash.startsWith('#/signin')) { leave = await signInPage(); return; }
  if (!me) {
    try { me = await api.get('session'); } catch { location.hash = '#/signin'; return; }
  }
  header();
  const [, page, arg] = hash.match(/^#\/([^/]*)\/?(.*)$/) ?? [];
  const pages = {
    rooms: roomsPage, room: () => roomPage(decodeURIComponent(arg)), chime: () => (arg ? chimeAccountPage(arg) : chimePage()),
    bans: bansPage, audit: auditPage, cluster: clusterPage,
  };
  leave = (pages[page] ?? roomsPage)();
  document.title = `parley · ${page ?? 'rooms'}`;
}

window.addEventListener('hashchange', route);
route();
