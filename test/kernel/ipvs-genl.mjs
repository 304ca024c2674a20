// A bare generic netlink socket to the IPVS family for the fixture capture
// scripts (capture-fixtures.mjs, capture-sync-fixtures.mjs): they record the
// kernel's replies byte for byte, so they go below lvsd's own client.
import { RawNetlinkSocket } from 'netlink';
import * as IPVS from '../../dist/ipvs/constants.js';
import * as NL from '../../dist/netlink/constants.js';
import { getFamilyMessage } from '../../dist/netlink/genl-family.js';
import { parseGenl, parseMessages, readU16 } from '../../dist/netlink/wire.js';

const K = { ...NL, ...IPVS };

/**
 * Opens the socket and resolves the IPVS family id. `request(buf)` sends one
 * message and resolves with its replies (every part of a dump, without the
 * DONE or ERROR that ends it); `hdr(flags)` is a request header with the next
 * sequence number.
 */
export async function openIpvsGenl() {
  const sock = new RawNetlinkSocket(K.NETLINK_GENERIC, {});
  const pid = sock.address().port;
  let seq = 1;
  const request = (buf) =>
    new Promise((resolve) => {
      const parts = [];
      const onMsg = (data) => {
        for (const m of parseMessages(data)) {
          if (m.type === K.NLMSG_DONE || m.type === K.NLMSG_ERROR) {
            sock.off('message', onMsg);
            return resolve(parts);
          }
          parts.push(m);
          if (!(m.flags & K.NLM_F_MULTI)) {
            sock.off('message', onMsg);
            return resolve(parts);
          }
        }
      };
      sock.on('message', onMsg);
      sock.send(buf);
    });
  const [fam] = await request(getFamilyMessage({ flags: K.NLM_F_REQUEST, seq: seq++, pid }, 'IPVS'));
  const family = readU16(parseGenl(fam.payload).attrs.get(K.CTRL_ATTR_FAMILY_ID));
  const hdr = (flags) => ({ type: family, flags: K.NLM_F_REQUEST | flags, seq: seq++, pid });
  return { sock, family, request, hdr };
}
