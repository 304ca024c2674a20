import { describe, expect, test } from 'vitest';
import { CTRL_ATTR_FAMILY_ID, CTRL_ATTR_VERSION, NLM_F_REQUEST } from '../../../src/netlink/constants.js';
import { decodeFamily, getFamilyMessage } from '../../../src/netlink/genl-family.js';
import { parseAttrs, u16, u32 } from '../../../src/netlink/wire.js';

const bytes = (s: string) => s.replace(/#.*$/gm, '').replace(/\s+/g, '');

describe('generic netlink controller', () => {
  test('CTRL_CMD_GETFAMILY for IPVS (golden bytes, little-endian host)', () => {
    expect(getFamilyMessage({ flags: NLM_F_REQUEST, seq: 1, pid: 0 }, 'IPVS').toString('hex')).toBe(
      bytes(`
      20000000 1000 0100 01000000 00000000   # nlmsghdr: 32 bytes, GENL_ID_CTRL, NLM_F_REQUEST, seq 1, pid 0
      03 01 0000                             # genlmsghdr: CTRL_CMD_GETFAMILY, version 1
      0900 0200 4950565300 000000            # CTRL_ATTR_FAMILY_NAME "IPVS\\0", padded
    `),
    );
  });

  test('the reply gives the id and version; a reply without the id is refused', () => {
    expect(decodeFamily(parseAttrs(Buffer.concat([u16(CTRL_ATTR_FAMILY_ID, 28), u32(CTRL_ATTR_VERSION, 1)])))).toEqual({
      id: 28,
      version: 1,
    });
    expect(() => decodeFamily(parseAttrs(u32(CTRL_ATTR_VERSION, 1)))).toThrow(/CTRL_ATTR_FAMILY_ID/);
  });
});
