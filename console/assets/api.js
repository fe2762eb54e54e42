// The console's calls. IVS and Chime operations go through the console to
// the same API handlers the AWS clients reach, as the signed-in key.
export class APIError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

let onSignedOut = () => {};
export function whenSignedOut(fn) { onSignedOut = fn; }

async function call(method, url, body) {
  const headers = { 'X-Parley-Console': '1' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await res.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { message: text }; }
  if (!res.ok) {
    if (res.status === 401 && !url.endsWith('/session')) onSignedOut();
    const type = res.headers.get('x-amzn-errortype') ?? '';
    throw new APIError(res.status, type.split(':')[0], data.message ?? data.Message ?? res.statusText);
  }
  return data;
}

export const ivs = (op, input = {}) => call('POST', `/console/api/ivschat/${op}`, input);
export const ivsGet = (path) => call('GET', `/console/api/ivschat/${path}`);
export const chime = (method, path, body) => call(method, `/console/api/chime${path}`, body);
export const get = (path) => call('GET', `/console/api/${path}`);
export const post = (path, body) => call('POST', `/console/api/${path}`, body);
export const del = (path) => call('DELETE', `/console/api/${path}`);

// all follows an IVS listing's nextToken up to max pages.
export async function all(op, input, key, max = 20) {
  let out = [];
  let nextToken;
  for (let i = 0; i < max; i++) {
    const page = await ivs(op, { ...input, ...(nextToken ? { nextToken } : {}) });
    out = out.concat(page[key] ?? []);
    nextToken = page.nextToken;
    if (!nextToken) break;
  }
  return out;
}

// allChime follows a Chime listing's NextToken.
export async function allChime(path, key, max = 20) {
  let out = [];
  let token;
  for (let i = 0; i < max; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await chime('GET', path + (token ? `${sep}next-token=${encodeURIComponent(token)}` : ''));
    out = out.concat(page[key] ?? []);
    token = page.NextToken;
    if (!token) break;
  }
  return out;
}
