/**
 * Reading flow tables: a peer's over HTTP (bounded in time and size), this
 * director's from its kernel.
 */
import { LvsdError, isLvsdError } from '../errors.js';
import type { HostClient } from '../host/client.js';
import type { IpvsClient } from '../ipvs/client.js';
import { FLOW_SYSCTLS, type FlowTable, flowTable, parseFlowTable, TABLE_PATH } from './table.js';

/** How long a peer has to answer, by default (ms). */
export const DEFAULT_PEER_TIMEOUT_MS = 5000;
/** The largest answer read from a peer, by default (bytes): about 30,000 real servers. */
export const DEFAULT_PEER_MAX_BYTES = 4 * 1024 * 1024;

/**
 * The table URL of a peer given as `http://HOST:PORT` (the path defaults to
 * TABLE_PATH) or as a full URL; CLI_USAGE for anything but http(s).
 */
export function peerTableUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LvsdError('CLI_USAGE', `peer ${text}: not a URL (expected e.g. http://192.0.2.2:9588)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LvsdError('CLI_USAGE', `peer ${text}: only http:// and https:// URLs are read`);
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = TABLE_PATH;
  return url;
}

export interface FetchLimits {
  timeoutMs?: number;
  maxBytes?: number;
}

/** The body of `res`, at most `maxBytes` of it; PEER_ANSWER when there is more. */
async function boundedText(res: Response, maxBytes: number, from: string): Promise<string> {
  const tooLarge = () => new LvsdError('PEER_ANSWER', `${from}: the answer is larger than ${maxBytes} bytes`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A peer's flow table. PEER_UNREACHABLE (naming the peer) when it does not
 * answer in time or answers with an HTTP error; PEER_ANSWER when the answer
 * is too large, not JSON, or not a table.
 */
export async function fetchPeerTable(url: URL, limits: FetchLimits = {}): Promise<FlowTable> {
  const from = url.href;
  const timeoutMs = limits.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string;
  try {
    const res = await fetch(url, { signal, headers: { accept: 'application/json' }, redirect: 'error' });
    if (!res.ok) {
      await res.body?.cancel();
      throw new LvsdError('PEER_UNREACHABLE', `${from}: HTTP ${res.status}`);
    }
    text = await boundedText(res, limits.maxBytes ?? DEFAULT_PEER_MAX_BYTES, from);
  } catch (e) {
    if (isLvsdError(e)) throw e;
    const why = signal.aborted ? `no answer within ${timeoutMs} ms` : causeText(e);
    throw new LvsdError('PEER_UNREACHABLE', `${from}: ${why}`, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new LvsdError('PEER_ANSWER', `${from}: the answer is not JSON`, { cause: e });
  }
  return parseFlowTable(parsed, from);
}

/** fetch's errors say "fetch failed" and keep the reason (ECONNREFUSED...) in their cause. */
function causeText(e: unknown): string {
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return e instanceof Error ? e.message : String(e);
}

/** This director's flow table, from its kernel (sysctls read when a host client is given). */
export async function readLocalTable(ipvs: Pick<IpvsClient, 'readTable'>, host?: HostClient): Promise<FlowTable> {
  const live = await ipvs.readTable();
  const sysctls = host ? await host.sysctls(Object.values(FLOW_SYSCTLS)) : new Map<string, string | undefined>();
  return flowTable(live, sysctls);
}
