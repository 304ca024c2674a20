/**
 * The connection timeouts (ipvsadm --set) by their two names: the model's
 * field (`tcpFin`) and the config's key (`tcp_fin`). The one mapping between
 * them, for the config's validator, normalizer and printer. Pure.
 */
import type { Timeouts } from './types.js';

/** Each timeout's model field and config key, in the order ipvsadm --set takes them. */
export const TIMEOUT_KEYS: readonly { field: keyof Timeouts; key: string }[] = [
  { field: 'tcp', key: 'tcp' },
  { field: 'tcpFin', key: 'tcp_fin' },
  { field: 'udp', key: 'udp' },
];
