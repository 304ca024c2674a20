// The client of the e2e LAN: one long-lived node process run inside the
// client's network namespace (`ip netns exec client node client-agent.mjs`),
// driven over stdin/stdout with one JSON object per line, so a test makes
// hundreds of requests without paying for a process (and `ip netns exec`,
// both slow under User-Mode Linux) per request.
//
// Request:  { "id": 1, "op": "get", ...args }
// Response: { "id": 1, "ok": true, "result": ... } or { "id": 1, "ok": false, "error": "..." }
//
// Ops:
//   get       { url, count=1, timeoutMs=5000, localAddress? }  -> Reply[]
//             each request on a new TCP connection (Connection: close)
//   loopStart { url, intervalMs=20, timeoutMs=5000, localAddress? } -> loop id
//             requests one after the other until loopStop
//   loopStop  { loop } -> Reply[] (every request the loop sent, in order)
//   kaOpen    { host, port=80, localAddress?, timeoutMs=5000 } -> connection id
//   kaGet     { conn, timeoutMs=5000 } -> Reply (a request on that same TCP connection)
//   kaClose   { conn }
//   udp       { host, port, count=1, timeoutMs=2000, localAddress?, payload="hello" } -> Reply[]
//             each datagram from a new socket (a new source port)
//
// Reply: { ok, server?, client?, port?, from?, status?, error?, at, ms, localPort? }
//   server: who answered (body / datagram); client, port: the client address
//   the server saw and the port it was reached on (X-Client, X-Port); from:
//   the address a UDP reply came from; at: ms since the agent started; ms: how
//   long the request took; localPort: the client's own port.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import readline from 'node:readline';

const t0 = Date.now();
const now = () => Date.now() - t0;

/** One HTTP GET on a fresh connection. */
function get(url, { timeoutMs = 5000, localAddress } = {}) {
  const at = now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      resolve({ at, ms: now() - at, ...r });
    };
    const req = http.get(
      url,
      { agent: false, headers: { Connection: 'close' }, localAddress, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () =>
          finish({
            ok: res.statusCode === 200,
            status: res.statusCode,
            server: body.trim(),
            client: res.headers['x-client'],
            port: Number(res.headers['x-port']),
            localPort: req.socket?.localPort,
          }),
        );
        res.on('error', (e) => finish({ ok: false, error: e.message }));
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`timeout after ${timeoutMs} ms`));
    });
    req.on('error', (e) => finish({ ok: false, error: e.message }));
  });
}

const loops = new Map();
let nextLoop = 1;

function loopStart({ url, intervalMs = 20, timeoutMs = 5000, localAddress }) {
  const id = nextLoop++;
  const loop = { replies: [], stopped: false, done: undefined };
  loop.done = (async () => {
    while (!loop.stopped) {
      loop.replies.push(await get(url, { timeoutMs, localAddress }));
      if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  loops.set(id, loop);
  return id;
}

async function loopStop({ loop: id }) {
  const loop = loops.get(id);
  if (!loop) throw new Error(`no loop ${id}`);
  loop.stopped = true;
  await loop.done;
  loops.delete(id);
  return loop.replies;
}

/** Keep-alive connections: a raw socket and a minimal HTTP/1.1 response reader. */
const conns = new Map();
let nextConn = 1;

function kaOpen({ host, port = 80, localAddress, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, localAddress });
    const c = { sock, host, buf: Buffer.alloc(0), waiter: undefined, closed: false };
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connect to ${host}:${port}: timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => {
      clearTimeout(timer);
      const id = nextConn++;
      conns.set(id, c);
      resolve(id);
    });
    sock.on('data', (d) => {
      c.buf = Buffer.concat([c.buf, d]);
      c.waiter?.();
    });
    sock.on('close', () => {
      c.closed = true;
      c.waiter?.();
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      c.error = e.message;
      reject(e);
      c.waiter?.();
    });
  });
}

function kaGet({ conn, timeoutMs = 5000 }) {
  const c = conns.get(conn);
  if (!c) throw new Error(`no connection ${conn}`);
  const at = now();
  const localPort = c.sock.localPort;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      c.waiter = undefined;
      resolve({ ok: false, at, ms: now() - at, localPort, error: `timeout after ${timeoutMs} ms` });
    }, timeoutMs);
    const finish = (r) => {
      clearTimeout(timer);
      c.waiter = undefined;
      resolve({ at, ms: now() - at, localPort, ...r });
    };
    c.waiter = () => {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = c.buf.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(head[0].split(' ')[1]);
        const headers = Object.fromEntries(
          head.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        );
        const len = Number(headers['content-length'] ?? 0);
        if (c.buf.length >= end + 4 + len) {
          const body = c.buf.subarray(end + 4, end + 4 + len).toString('utf8');
          c.buf = c.buf.subarray(end + 4 + len);
          finish({
            ok: status === 200,
            status,
            server: body.trim(),
            client: headers['x-client'],
            port: Number(headers['x-port']),
          });
          return;
        }
      }
      if (c.closed) finish({ ok: false, error: c.error ?? 'connection closed' });
    };
    const host = c.host.includes(':') ? `[${c.host}]` : c.host;
    c.sock.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
  });
}

function kaClose({ conn }) {
  conns.get(conn)?.sock.destroy();
  conns.delete(conn);
  return null;
}

function udpOnce({ host, port, timeoutMs = 2000, localAddress, payload = 'hello' }) {
  const at = now();
  return new Promise((resolve) => {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const finish = (r) => {
      clearTimeout(timer);
      sock.close();
      resolve({ at, ms: now() - at, ...r });
    };
    const timer = setTimeout(() => finish({ ok: false, error: `no reply within ${timeoutMs} ms` }), timeoutMs);
    sock.on('message', (msg, rinfo) =>
      finish({ ok: true, server: msg.toString('utf8'), from: rinfo.address, localPort: sock.address().port }),
    );
    sock.on('error', (e) => finish({ ok: false, error: e.message }));
    sock.bind(0, localAddress, () => sock.send(payload, port, host));
  });
}

async function repeat(fn, args) {
  const out = [];
  for (let i = 0; i < (args.count ?? 1); i++) out.push(await fn(args));
  return out;
}

const ops = {
  get: (a) => repeat((x) => get(x.url, x), a),
  loopStart,
  loopStop,
  kaOpen,
  kaGet,
  kaClose,
  udp: (a) => repeat(udpOnce, a),
};

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  try {
    const op = ops[msg.op];
    if (!op) throw new Error(`unknown op ${msg.op}`);
    const result = await op(msg);
    process.stdout.write(JSON.stringify({ id: msg.id, ok: true, result }) + '\n');
  } catch (e) {
    process.stdout.write(
      JSON.stringify({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }) + '\n',
    );
  }
});
rl.on('close', () => process.exit(0));
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
